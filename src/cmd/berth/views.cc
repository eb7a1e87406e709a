// berth CLI: rows for docker's list commands and docker's image inspect object.
#include "views.h"

#include "berth/base/strings.h"
#include "berth/base/time.h"
#include "berth/oci/reference.h"

namespace berth::cli {

const ListFormat& PsFormat() {
  static const ListFormat f{
      "table "
      "{{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}"
      "}",
      Json{{"ID", "CONTAINER ID"},
           {"Image", "IMAGE"},
           {"Command", "COMMAND"},
           {"RunningFor", "CREATED"},
           {"CreatedAt", "CREATED AT"},
           {"Status", "STATUS"},
           {"Ports", "PORTS"},
           {"Names", "NAMES"},
           {"State", "STATE"},
           {"Labels", "LABELS"},
           {"Mounts", "MOUNTS"},
           {"Networks", "NETWORKS"},
           {"Size", "SIZE"},
           {"LocalVolumes", "LOCAL VOLUMES"}}};
  return f;
}

const ListFormat& ImagesFormat() {
  static const ListFormat f{
      "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}",
      Json{{"Repository", "REPOSITORY"},
           {"Tag", "TAG"},
           {"ID", "IMAGE ID"},
           {"Digest", "DIGEST"},
           {"CreatedSince", "CREATED"},
           {"CreatedAt", "CREATED AT"},
           {"Size", "SIZE"},
           {"Containers", "CONTAINERS"},
           {"SharedSize", "SHARED SIZE"},
           {"UniqueSize", "UNIQUE SIZE"},
           {"VirtualSize", "VIRTUAL SIZE"}}};
  return f;
}

const ListFormat& ImagesDigestsFormat() {
  static const ListFormat f{
      "table {{.Repository}}\\t{{.Tag}}\\t{{.Digest}}\\t{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}",
      ImagesFormat().headers};
  return f;
}

const ListFormat& HistoryFormat() {
  static const ListFormat f{
      "table {{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}",
      Json{{"ID", "IMAGE"},
           {"CreatedSince", "CREATED"},
           {"CreatedAt", "CREATED AT"},
           {"CreatedBy", "CREATED BY"},
           {"Size", "SIZE"},
           {"Comment", "COMMENT"}}};
  return f;
}

const ListFormat& VolumeFormat() {
  static const ListFormat f{"table {{.Driver}}\\t{{.Name}}", Json{{"Driver", "DRIVER"},
                                                                  {"Name", "VOLUME NAME"},
                                                                  {"Mountpoint", "MOUNTPOINT"},
                                                                  {"Labels", "LABELS"},
                                                                  {"Scope", "SCOPE"},
                                                                  {"CreatedAt", "CREATED AT"}}};
  return f;
}

int64_t TimeNs(const std::string& rfc3339) {
  if (rfc3339.empty() || rfc3339.starts_with("0001-01-01")) return 0;
  auto t = ParseRfc3339(rfc3339);
  return t ? *t : 0;
}

std::vector<std::string> EffectiveCommand(const engine::ContainerRecord& c) {
  std::vector<std::string> out;
  const auto& ep = c.config.entrypoint
                       ? *c.config.entrypoint
                       : c.image_config.entrypoint.value_or(std::vector<std::string>{});
  out = ep;
  if (!c.config.cmd.empty()) {
    out.insert(out.end(), c.config.cmd.begin(), c.config.cmd.end());
  } else if (!c.config.entrypoint && c.image_config.cmd) {
    // docker drops the image's Cmd when --entrypoint is given.
    out.insert(out.end(), c.image_config.cmd->begin(), c.image_config.cmd->end());
  }
  return out;
}

Json PsRow(const engine::ContainerRecord& c, bool no_trunc, int64_t now_ns) {
  int64_t created = TimeNs(c.created);
  std::string command = Join(EffectiveCommand(c), " ");
  std::string state(engine::StateName(c.state));
  StatusInput st{state, TimeNs(c.started_at), TimeNs(c.finished_at), c.exit_code, c.health.status};
  Json labels = Json::object();
  for (const auto& [k, v] : c.config.labels) labels[k] = v;
  for (const auto& [k, v] : c.image_config.labels) {
    if (!labels.contains(k)) labels[k] = v;
  }
  std::vector<std::string> mounts;
  for (const auto& m : c.config.mounts) {
    mounts.push_back(m.kind == engine::VolumeMount::Kind::kVolume && !m.source.empty() ? m.source
                                                                                       : m.target);
  }
  Json row;
  row["ID"] = no_trunc ? c.id : TruncateId(c.id);
  row["Image"] = c.image_ref.empty() ? TruncateId(c.image) : c.image_ref;
  row["Command"] = GoQuote(no_trunc ? command : Ellipsis(command, 20));
  row["CreatedAt"] = DockerTime(created);
  row["RunningFor"] = HumanDuration(std::max<int64_t>(0, now_ns - created)) + " ago";
  row["Ports"] = "";
  row["State"] = state;
  row["Status"] = ContainerStatusText(st, now_ns);
  row["Size"] = "0B";
  row["Names"] = c.name;
  row["Labels"] = LabelsString(labels);
  row["Mounts"] = Join(mounts, ",");
  std::vector<std::string> networks;
  for (const auto& a : c.networks) networks.push_back(a.network);
  row["Networks"] = networks.empty() ? c.config.network : Join(networks, ",");
  row["LocalVolumes"] = std::to_string(mounts.size());
  return row;
}

std::string FamiliarName(const std::string& normalized) {
  auto ref = oci::ParseReference(normalized);
  return ref ? ref->Familiar() : normalized;
}

std::vector<RepoTag> RepoTags(const image::ImageRecord& img) {
  std::vector<RepoTag> out;
  for (const auto& n : img.names) {
    auto ref = oci::ParseReference(n);
    if (!ref) {
      out.push_back({n, "<none>", "<none>"});
      continue;
    }
    oci::Reference name_only = *ref;
    name_only.tag.clear();
    name_only.digest.clear();
    out.push_back({name_only.Familiar(), ref->tag.empty() ? "<none>" : ref->tag,
                   ref->digest.empty() ? "<none>" : ref->digest});
  }
  if (out.empty()) out.push_back({"<none>", "<none>", "<none>"});
  return out;
}

Json ImageRow(const image::ImageRecord& img, const RepoTag& rt, bool no_trunc, int64_t now_ns) {
  int64_t created = TimeNs(img.created);
  Json row;
  row["Repository"] = rt.repository;
  row["Tag"] = rt.tag;
  row["Digest"] = rt.digest;
  row["ID"] = no_trunc ? img.id : TruncateId(img.id);
  row["CreatedAt"] = created ? DockerTime(created) : "N/A";
  row["CreatedSince"] =
      created ? HumanDuration(std::max<int64_t>(0, now_ns - created)) + " ago" : "N/A";
  row["Size"] = HumanSize(static_cast<double>(img.size));
  row["VirtualSize"] = row["Size"];
  row["SharedSize"] = "N/A";
  row["UniqueSize"] = "N/A";
  row["Containers"] = "N/A";
  return row;
}

Json ImageInspect(const image::ImageRecord& img, const oci::ImageConfig& config,
                  const std::vector<std::string>& layer_dirs) {
  Json tags = Json::array(), digests = Json::array();
  for (const auto& n : img.names) {
    auto ref = oci::ParseReference(n);
    if (ref && !ref->digest.empty()) {
      digests.push_back(FamiliarName(n));
    } else {
      tags.push_back(FamiliarName(n));
    }
  }
  Json j;
  j["Id"] = img.id;
  j["RepoTags"] = tags;
  j["RepoDigests"] = digests;
  j["Parent"] = "";
  j["Comment"] = config.history.empty() ? "" : config.history.back().comment;
  j["Created"] = config.created;
  j["DockerVersion"] = "";
  j["Author"] = config.author;
  j["Config"] = oci::ToJson(config.config);
  j["Architecture"] = config.architecture;
  if (!config.variant.empty()) j["Variant"] = config.variant;
  j["Os"] = config.os;
  j["Size"] = img.size;
  std::vector<std::string> lowers(layer_dirs.rbegin(), layer_dirs.rend());
  j["GraphDriver"] = {{"Name", "overlay"}, {"Data", {{"LowerDir", Join(lowers, ":")}}}};
  j["RootFS"] = {{"Type", config.rootfs_type}, {"Layers", config.diff_ids}};
  j["Metadata"] = {{"LastTagTime", img.added_unix ? Rfc3339Nano(img.added_unix * 1000000000)
                                                  : "0001-01-01T00:00:00Z"}};
  j["ManifestDigest"] = img.manifest_digest;
  return j;
}

Json VolumeJson(const engine::Engine::Volume& v) {
  Json labels = Json::object();
  for (const auto& [k, val] : v.labels) labels[k] = val;
  return Json{{"CreatedAt", v.created}, {"Driver", "local"},
              {"Labels", labels},       {"Mountpoint", v.mountpoint},
              {"Name", v.name},         {"Options", Json::object()},
              {"Scope", "local"}};
}

}  // namespace berth::cli
