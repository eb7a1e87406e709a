#include "berth/engine/container_store.h"

#include "berth/base/strings.h"

namespace berth::engine {

std::string_view ContainerStore::Schema() {
  return R"sql(
CREATE TABLE IF NOT EXISTS containers (
  id   TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS volumes (
  name TEXT PRIMARY KEY,
  data TEXT NOT NULL
);
)sql";
}

namespace {

std::string_view StateKey(State s) { return StateName(s); }

Result<State> StateFromName(std::string_view s) {
  for (State st : {State::kCreated, State::kRunning, State::kPaused, State::kRestarting,
                   State::kExited, State::kRemoving, State::kDead}) {
    if (StateName(st) == s) return st;
  }
  return InvalidArgument(StrCat("container record: unknown state ", Quote(s)));
}

}  // namespace

Json RecordToJson(const ContainerRecord& c) {
  Json j;
  j["id"] = c.id;
  j["name"] = c.name;
  j["image"] = c.image;
  j["image_ref"] = c.image_ref;
  j["created"] = c.created;
  j["config"] = ToJson(c.config);
  j["image_config"] = oci::ToJson(c.image_config);
  j["chain_ids"] = c.chain_ids;
  j["state"] = StateKey(c.state);
  j["pid"] = c.pid;
  j["monitor_pid"] = c.monitor_pid;
  j["monitor_start"] = c.monitor_start;
  j["started_at"] = c.started_at;
  j["finished_at"] = c.finished_at;
  j["exit_code"] = c.exit_code;
  j["oom_killed"] = c.oom_killed;
  j["stopped_by_user"] = c.stopped_by_user;
  j["restart_count"] = c.restart_count;
  j["error"] = c.error;
  j["health"] = {{"status", c.health.status},
                 {"failing_streak", c.health.failing_streak},
                 {"log", c.health.log}};
  Json nets = Json::array();
  for (const auto& a : c.networks) nets.push_back(AttachmentToJson(a));
  j["networks"] = std::move(nets);
  j["ports"] = ToJson(c.ports);
  return j;
}

Result<ContainerRecord> RecordFromJson(const Json& j) {
  try {
    ContainerRecord c;
    c.id = j.at("id").get<std::string>();
    c.name = j.at("name").get<std::string>();
    c.image = j.value("image", "");
    c.image_ref = j.value("image_ref", "");
    c.created = j.value("created", "");
    BERTH_ASSIGN_OR_RETURN(c.config, RunConfigFromJson(j.at("config")));
    if (j.contains("image_config")) {
      // The image config's "config" object, wrapped as a whole image config for the parser.
      Json wrapped = {{"config", j["image_config"]}, {"rootfs", {{"type", "layers"}, {"diff_ids", Json::array()}}}};
      BERTH_ASSIGN_OR_RETURN(oci::ImageConfig ic, oci::ParseImageConfig(wrapped.dump(), "container record"));
      c.image_config = std::move(ic.config);
    }
    c.chain_ids = j.value("chain_ids", std::vector<std::string>{});
    BERTH_ASSIGN_OR_RETURN(c.state, StateFromName(j.value("state", "created")));
    c.pid = j.value("pid", 0);
    c.monitor_pid = j.value("monitor_pid", 0);
    c.monitor_start = j.value("monitor_start", uint64_t{0});
    c.started_at = j.value("started_at", "");
    c.finished_at = j.value("finished_at", "");
    c.exit_code = j.value("exit_code", 0);
    c.oom_killed = j.value("oom_killed", false);
    c.stopped_by_user = j.value("stopped_by_user", false);
    c.restart_count = j.value("restart_count", 0);
    c.error = j.value("error", "");
    if (j.contains("health")) {
      const Json& h = j["health"];
      c.health.status = h.value("status", "");
      c.health.failing_streak = h.value("failing_streak", 0);
      if (h.contains("log")) c.health.log = h["log"];
    }
    for (const auto& a : j.value("networks", Json::array())) {
      BERTH_ASSIGN_OR_RETURN(NetworkAttachment att, AttachmentFromJson(a));
      c.networks.push_back(std::move(att));
    }
    BERTH_ASSIGN_OR_RETURN(c.ports, PortMappingsFromJson(j, "ports", "container record: "));
    return c;
  } catch (const Json::exception& e) {
    return InvalidArgument(StrCat("container record: ", e.what()));
  }
}

Status ContainerStore::Insert(const ContainerRecord& c) {
  return db_.Transaction([&]() -> Status {
    std::optional<std::string> holder;
    BERTH_TRY(db_.Query("SELECT id FROM containers WHERE name = ?", {c.name},
                        [&](const image::Row& r) {
                          holder = r.Text(0);
                          return false;
                        }));
    if (holder) {
      return Fail(ErrorCode::kAlreadyExists,
                  StrCat("container name \"/", c.name, "\" is already in use by container \"",
                         *holder, "\"; remove or rename that container to reuse the name"));
    }
    return db_.Exec("INSERT INTO containers (id, name, data) VALUES (?, ?, ?)",
                    {c.id, c.name, RecordToJson(c).dump()});
  });
}

Result<std::optional<ContainerRecord>> ContainerStore::FindById(const std::string& id) {
  std::optional<std::string> data;
  BERTH_TRY(db_.Query("SELECT data FROM containers WHERE id = ?", {id}, [&](const image::Row& r) {
    data = r.Text(0);
    return false;
  }));
  if (!data) return std::optional<ContainerRecord>();
  BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(*data, "container record"));
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, RecordFromJson(j));
  return std::optional<ContainerRecord>(std::move(c));
}

Result<ContainerRecord> ContainerStore::Find(const std::string& name_or_id) {
  std::string key = name_or_id;
  if (!key.empty() && key[0] == '/') key.erase(0, 1);
  if (key.empty()) return InvalidArgument("container name or id: empty");
  std::vector<std::string> data;
  BERTH_TRY(db_.Query("SELECT data FROM containers WHERE name = ? OR id = ?", {key, key},
                      [&](const image::Row& r) {
                        data.push_back(r.Text(0));
                        return true;
                      }));
  if (data.empty()) {
    // A unique id prefix, as docker accepts.
    bool hex = key.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (hex) {
      BERTH_TRY(db_.Query("SELECT data FROM containers WHERE substr(id, 1, ?) = ?",
                          {static_cast<int64_t>(key.size()), key}, [&](const image::Row& r) {
                            data.push_back(r.Text(0));
                            return true;
                          }));
    }
    if (data.size() > 1) {
      return InvalidArgument(StrCat("container id prefix ", Quote(key), " is ambiguous"));
    }
  }
  if (data.empty()) {
    return Fail(ErrorCode::kNotFound, StrCat("no such container: ", name_or_id));
  }
  BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(data[0], "container record"));
  return RecordFromJson(j);
}

Result<std::vector<ContainerRecord>> ContainerStore::All() {
  std::vector<ContainerRecord> out;
  Status st;
  BERTH_TRY(db_.Query("SELECT data FROM containers", {}, [&](const image::Row& r) {
    auto j = ParseJson(r.Text(0), "container record");
    if (!j) {
      st = Unexpected(j.error());
      return false;
    }
    auto c = RecordFromJson(*j);
    if (!c) {
      st = Unexpected(c.error());
      return false;
    }
    out.push_back(std::move(*c));
    return true;
  }));
  BERTH_TRY(st);
  return out;
}

Result<ContainerRecord> ContainerStore::Update(
    const std::string& id, const std::function<Status(ContainerRecord&)>& change) {
  ContainerRecord result;
  BERTH_TRY(db_.Transaction([&]() -> Status {
    BERTH_ASSIGN_OR_RETURN(std::optional<ContainerRecord> c, FindById(id));
    if (!c) return Fail(ErrorCode::kNotFound, StrCat("no such container: ", id));
    std::string old_name = c->name;
    BERTH_TRY(change(*c));
    BERTH_TRY(db_.Exec("UPDATE containers SET name = ?, data = ? WHERE id = ?",
                       {c->name, RecordToJson(*c).dump(), id}));
    result = std::move(*c);
    return Ok();
  }));
  return result;
}

Status ContainerStore::Delete(const std::string& id) {
  return db_.Exec("DELETE FROM containers WHERE id = ?", {id});
}

Status ContainerStore::InsertVolume(const Engine::Volume& v) {
  Json j = {{"name", v.name}, {"created", v.created}, {"labels", v.labels}};
  auto st = db_.Exec("INSERT INTO volumes (name, data) VALUES (?, ?)", {v.name, j.dump()});
  if (!st) {
    BERTH_ASSIGN_OR_RETURN(auto existing, FindVolume(v.name));
    if (existing) return Fail(ErrorCode::kAlreadyExists, StrCat("volume ", Quote(v.name), " already exists"));
    return st;
  }
  return Ok();
}

Result<std::optional<Engine::Volume>> ContainerStore::FindVolume(const std::string& name) {
  std::optional<std::string> data;
  BERTH_TRY(db_.Query("SELECT data FROM volumes WHERE name = ?", {name}, [&](const image::Row& r) {
    data = r.Text(0);
    return false;
  }));
  if (!data) return std::optional<Engine::Volume>();
  BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(*data, "volume record"));
  Engine::Volume v;
  v.name = j.value("name", name);
  v.created = j.value("created", "");
  if (j.contains("labels") && j["labels"].is_object()) {
    for (auto& [k, val] : j["labels"].items()) {
      if (val.is_string()) v.labels[k] = val.get<std::string>();
    }
  }
  return std::optional<Engine::Volume>(std::move(v));
}

Result<std::vector<Engine::Volume>> ContainerStore::AllVolumes() {
  std::vector<std::string> names;
  BERTH_TRY(db_.Query("SELECT name FROM volumes ORDER BY name", {}, [&](const image::Row& r) {
    names.push_back(r.Text(0));
    return true;
  }));
  std::vector<Engine::Volume> out;
  for (auto& n : names) {
    BERTH_ASSIGN_OR_RETURN(auto v, FindVolume(n));
    if (v) out.push_back(std::move(*v));
  }
  return out;
}

Status ContainerStore::DeleteVolume(const std::string& name) {
  return db_.Exec("DELETE FROM volumes WHERE name = ?", {name});
}

}  // namespace berth::engine
