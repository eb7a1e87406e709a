// berth/oci: image models -> canonical JSON. Omission follows the Go types docker and podman
// write (omitempty fields left out when empty); Cmd/Entrypoint are written whenever set, even
// empty, so that every parsed value reads back equal.
#include <map>
#include <string>
#include <vector>

#include "berth/oci/image.h"

namespace berth::oci {
namespace {

void PutString(Json& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}

void PutStrings(Json& j, const char* key, const std::vector<std::string>& v) {
  if (!v.empty()) j[key] = v;
}

void PutStringMap(Json& j, const char* key, const std::map<std::string, std::string>& m) {
  if (!m.empty()) j[key] = m;
}

// A set written as an object of empty objects ({"80/tcp": {}}).
void PutKeySet(Json& j, const char* key, const std::vector<std::string>& keys) {
  if (keys.empty()) return;
  Json o = Json::object();
  for (const auto& k : keys) o[k] = Json::object();
  j[key] = std::move(o);
}

template <class T>
void PutNonZero(Json& j, const char* key, T v) {
  if (v != T{}) j[key] = v;
}

Json ToJson(const Platform& p) {
  Json j = Json::object();
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  PutString(j, "os.version", p.os_version);
  PutStrings(j, "os.features", p.os_features);
  PutString(j, "variant", p.variant);
  return j;
}

Json ToJson(const HealthConfig& h) {
  Json j = Json::object();
  PutStrings(j, "Test", h.test);
  PutNonZero(j, "Interval", h.interval_ns);
  PutNonZero(j, "Timeout", h.timeout_ns);
  PutNonZero(j, "StartPeriod", h.start_period_ns);
  PutNonZero(j, "StartInterval", h.start_interval_ns);
  PutNonZero(j, "Retries", h.retries);
  return j;
}

Json ToJson(const HistoryEntry& h) {
  Json j = Json::object();
  PutString(j, "created", h.created);
  PutString(j, "created_by", h.created_by);
  PutString(j, "author", h.author);
  PutString(j, "comment", h.comment);
  PutNonZero(j, "empty_layer", h.empty_layer);
  return j;
}

}  // namespace

Json ToJson(const Descriptor& d) {
  Json j = Json::object();
  j["mediaType"] = d.media_type;
  j["digest"] = d.digest;
  j["size"] = d.size;
  PutStrings(j, "urls", d.urls);
  PutStringMap(j, "annotations", d.annotations);
  if (d.platform) j["platform"] = ToJson(*d.platform);
  PutString(j, "artifactType", d.artifact_type);
  return j;
}

Json ToJson(const Manifest& m) {
  Json j = Json::object();
  j["schemaVersion"] = m.schema_version;
  PutString(j, "mediaType", m.media_type);
  PutString(j, "artifactType", m.artifact_type);
  j["config"] = ToJson(m.config);
  Json layers = Json::array();
  for (const auto& l : m.layers) layers.push_back(ToJson(l));
  j["layers"] = std::move(layers);
  if (m.subject) j["subject"] = ToJson(*m.subject);
  PutStringMap(j, "annotations", m.annotations);
  return j;
}

Json ToJson(const Index& i) {
  Json j = Json::object();
  j["schemaVersion"] = i.schema_version;
  PutString(j, "mediaType", i.media_type);
  Json manifests = Json::array();
  for (const auto& d : i.manifests) manifests.push_back(ToJson(d));
  j["manifests"] = std::move(manifests);
  PutStringMap(j, "annotations", i.annotations);
  return j;
}

Json ToJson(const ContainerConfig& c) {
  Json j = Json::object();
  PutString(j, "User", c.user);
  PutKeySet(j, "ExposedPorts", c.exposed_ports);
  PutStrings(j, "Env", c.env);
  if (c.entrypoint) j["Entrypoint"] = *c.entrypoint;
  if (c.cmd) j["Cmd"] = *c.cmd;
  if (c.healthcheck) j["Healthcheck"] = ToJson(*c.healthcheck);
  PutKeySet(j, "Volumes", c.volumes);
  PutString(j, "WorkingDir", c.working_dir);
  PutStringMap(j, "Labels", c.labels);
  PutString(j, "StopSignal", c.stop_signal);
  PutStrings(j, "Shell", c.shell);
  PutStrings(j, "OnBuild", c.on_build);
  PutNonZero(j, "ArgsEscaped", c.args_escaped);
  return j;
}

Json ToJson(const ImageConfig& c) {
  Json j = Json::object();
  PutString(j, "created", c.created);
  PutString(j, "author", c.author);
  j["architecture"] = c.architecture;
  j["os"] = c.os;
  PutString(j, "variant", c.variant);
  j["config"] = ToJson(c.config);
  j["rootfs"] = Json{{"type", c.rootfs_type}, {"diff_ids", c.diff_ids}};
  if (!c.history.empty()) {
    Json h = Json::array();
    for (const auto& e : c.history) h.push_back(ToJson(e));
    j["history"] = std::move(h);
  }
  return j;
}

}  // namespace berth::oci
