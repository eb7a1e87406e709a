// berth/oci: manifest, index and image config JSON -> models. Member names as the image-spec
// and Docker's image format spell them (the container "config" uses Docker's capitalized
// keys); types are strict, unknown members ignored, digests validated.
#include <string>

#include "berth/base/json.h"
#include "berth/oci/image.h"
#include "berth/oci/reader.h"

namespace berth::oci {
// In the reader's namespace so the generic vector/optional/map readers find these by ADL.
namespace internal {

static Status ReadDigest(const Reader& r, std::string& out) {
  BERTH_TRY(ReadValue(r, out));
  if (auto st = ValidateDigest(out); !st) return r.Fail(st.error().message());
  return Ok();
}

static Status ReadDigestField(const Reader& obj, std::string_view key, std::string& out,
                              bool required) {
  Reader f = obj.Field(key);
  if (!f.present()) return required ? f.Fail("required field is missing") : Ok();
  return ReadDigest(f, out);
}

// An object used as a set ("ExposedPorts": {"80/tcp": {}}): its keys, in sorted order. The
// values are empty objects in every writer; anything but an object or null is refused.
static Status ReadKeySet(const Reader& r, std::vector<std::string>& out) {
  BERTH_TRY(r.ExpectObject());
  std::vector<std::string> keys;
  for (auto it = r.value().begin(); it != r.value().end(); ++it) {
    Reader m = r.Member(it.key(), it.value());
    if (m.present() && !it.value().is_object()) return m.TypeError("an object");
    keys.push_back(it.key());
  }
  out = std::move(keys);
  return Ok();
}

static Status ReadSchemaVersion(const Reader& r, int& out) {
  Reader f = r.Field("schemaVersion");
  if (!f.present()) return f.Fail("required field is missing");
  BERTH_TRY(ReadValue(f, out));
  if (out != 2) return f.Fail(StrCat("unsupported schema version ", out, " (want 2)"));
  return Ok();
}

static Status ReadValue(const Reader& r, Platform& p) {
  return ObjectReader(r)
      .Get("architecture", p.architecture)
      .Get("os", p.os)
      .Get("os.version", p.os_version)
      .Get("os.features", p.os_features)
      .Get("variant", p.variant)
      .Done();
}

static Status ReadValue(const Reader& r, Descriptor& d) {
  BERTH_TRY(ObjectReader(r)
                .Get("mediaType", d.media_type)
                .Require("size", d.size)
                .Get("urls", d.urls)
                .Get("annotations", d.annotations)
                .Get("platform", d.platform)
                .Get("artifactType", d.artifact_type)
                .Done());
  if (d.size < 0) return r.Field("size").Fail("size must not be negative");
  return ReadDigestField(r, "digest", d.digest, /*required=*/true);
}

static Status ReadValue(const Reader& r, HealthConfig& h) {
  return ObjectReader(r)
      .Get("Test", h.test)
      .Get("Interval", h.interval_ns)
      .Get("Timeout", h.timeout_ns)
      .Get("StartPeriod", h.start_period_ns)
      .Get("StartInterval", h.start_interval_ns)
      .Get("Retries", h.retries)
      .Done();
}

static Status ReadValue(const Reader& r, ContainerConfig& c) {
  BERTH_TRY(ObjectReader(r)
                .Get("User", c.user)
                .Get("Env", c.env)
                .Get("Entrypoint", c.entrypoint)
                .Get("Cmd", c.cmd)
                .Get("WorkingDir", c.working_dir)
                .Get("Labels", c.labels)
                .Get("StopSignal", c.stop_signal)
                .Get("Healthcheck", c.healthcheck)
                .Get("Shell", c.shell)
                .Get("OnBuild", c.on_build)
                .Get("ArgsEscaped", c.args_escaped)
                .Done());
  if (Reader f = r.Field("ExposedPorts"); f.present()) BERTH_TRY(ReadKeySet(f, c.exposed_ports));
  if (Reader f = r.Field("Volumes"); f.present()) BERTH_TRY(ReadKeySet(f, c.volumes));
  return Ok();
}

static Status ReadValue(const Reader& r, HistoryEntry& h) {
  return ObjectReader(r)
      .Get("created", h.created)
      .Get("created_by", h.created_by)
      .Get("author", h.author)
      .Get("comment", h.comment)
      .Get("empty_layer", h.empty_layer)
      .Done();
}

static Status ReadRootfs(const Reader& r, ImageConfig& c) {
  BERTH_TRY(ObjectReader(r).Get("type", c.rootfs_type).Done());
  Reader ids = r.Field("diff_ids");
  if (!ids.present()) return Ok();
  BERTH_TRY(ids.ExpectArray());
  c.diff_ids.resize(ids.value().size());
  for (size_t i = 0; i < c.diff_ids.size(); ++i) BERTH_TRY(ReadDigest(ids.Index(i), c.diff_ids[i]));
  return Ok();
}

static Status ReadValue(const Reader& r, Manifest& m) {
  BERTH_TRY(r.ExpectObject());
  BERTH_TRY(ReadSchemaVersion(r, m.schema_version));
  // The media type first: an index given where a manifest is expected is named as such.
  BERTH_TRY(r.Get("mediaType", m.media_type));
  if (IsIndexMediaType(m.media_type)) {
    return r.Field("mediaType").Fail(StrCat("expected a manifest, got ", Quote(m.media_type)));
  }
  return ObjectReader(r)
      .Get("artifactType", m.artifact_type)
      .Require("config", m.config)
      .Get("layers", m.layers)
      .Get("subject", m.subject)
      .Get("annotations", m.annotations)
      .Done();
}

static Status ReadValue(const Reader& r, Index& i) {
  BERTH_TRY(r.ExpectObject());
  BERTH_TRY(ReadSchemaVersion(r, i.schema_version));
  BERTH_TRY(r.Get("mediaType", i.media_type));
  if (IsManifestMediaType(i.media_type)) {
    return r.Field("mediaType").Fail(StrCat("expected an index, got ", Quote(i.media_type)));
  }
  return ObjectReader(r).Require("manifests", i.manifests).Get("annotations", i.annotations).Done();
}

static Status ReadValue(const Reader& r, ImageConfig& c) {
  BERTH_TRY(ObjectReader(r)
                .Get("created", c.created)
                .Get("author", c.author)
                .Get("architecture", c.architecture)
                .Get("os", c.os)
                .Get("variant", c.variant)
                .Get("config", c.config)
                .Get("history", c.history)
                .Done());
  if (Reader f = r.Field("rootfs"); f.present()) BERTH_TRY(ReadRootfs(f, c));
  return Ok();
}

}  // namespace internal

namespace {
template <class T>
Result<T> ParseDocument(std::string_view text, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(text, what));
  T out;
  BERTH_TRY(internal::ReadValue(internal::Reader(what, j), out));
  return out;
}
}  // namespace

Result<Manifest> ParseManifest(std::string_view json, std::string_view what) {
  return ParseDocument<Manifest>(json, what);
}

Result<Index> ParseIndex(std::string_view json, std::string_view what) {
  return ParseDocument<Index>(json, what);
}

Result<ImageConfig> ParseImageConfig(std::string_view json, std::string_view what) {
  return ParseDocument<ImageConfig>(json, what);
}

Result<Descriptor> ParseDescriptor(const Json& j, std::string_view what) {
  Descriptor d;
  BERTH_TRY(internal::ReadValue(internal::Reader(what, j), d));
  return d;
}

}  // namespace berth::oci
