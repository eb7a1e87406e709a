// berth CLI: the rows docker's list commands print (ps, images, history, volume ls), as
// JSON objects with docker's --format field names, and docker's image inspect object.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "berth/base/json.h"
#include "berth/engine/engine.h"
#include "berth/image/image_store.h"
#include "format.h"

namespace berth::cli {

// RFC 3339 to unix ns; 0 for "" and Go's zero time.
int64_t TimeNs(const std::string& rfc3339);

// ---- ps
const ListFormat& PsFormat();
// The command docker shows: entrypoint + cmd, effective after the image's defaults.
std::vector<std::string> EffectiveCommand(const engine::ContainerRecord& c);
Json PsRow(const engine::ContainerRecord& c, bool no_trunc, int64_t now_ns);

// ---- images
const ListFormat& ImagesFormat();
const ListFormat& ImagesDigestsFormat();
struct RepoTag {
  std::string repository;  // familiar: "busybox", "reg:5000/a/b"; "<none>"
  std::string tag;         // "latest"; "<none>"
  std::string digest;      // "sha256:..." of a digest reference; "<none>"
};
// One per name of the image (a name with a digest gives its digest); {<none>, <none>} when
// the image has no name.
std::vector<RepoTag> RepoTags(const image::ImageRecord& img);
// "busybox:latest" for a normalized reference (the text itself if it does not parse).
std::string FamiliarName(const std::string& normalized);
Json ImageRow(const image::ImageRecord& img, const RepoTag& rt, bool no_trunc, int64_t now_ns);
// docker image inspect's object for `img` and its config.
Json ImageInspect(const image::ImageRecord& img, const oci::ImageConfig& config,
                  const std::vector<std::string>& layer_dirs);

// ---- history
const ListFormat& HistoryFormat();

// ---- volumes
const ListFormat& VolumeFormat();
Json VolumeJson(const engine::Engine::Volume& v);

}  // namespace berth::cli
