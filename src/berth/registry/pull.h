// berth/registry: pull and push between a registry and the image store.
//
// Pull: manifest (an index resolved to the platform's manifest), config, then the layers in
// parallel. Each layer is appended to a resumable partial blob while a second thread reads
// the same bytes back (from the page cache) and unpacks them: download, digest, inflate and
// unpack overlap, with no second pass. A layer appears only once its digest and diff id are
// verified, and the image (its names) only once every layer is there: an interrupted pull
// leaves resumable partial blobs and nothing visible.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/image/image_store.h"
#include "berth/oci/image.h"
#include "berth/oci/reference.h"
#include "berth/registry/client.h"
#include "berth/registry/registries_conf.h"

namespace berth::registry {

// One line of progress, per layer (or per blob on push); called from several threads.
struct TransferEvent {
  enum class State { kWaiting, kDownloading, kExtracting, kDone, kExists, kUploading, kPushed,
                     kMounted, kFailed };
  std::string id;  // the blob's short digest (12 hex characters)
  State state = State::kWaiting;
  int64_t current = 0;
  int64_t total = 0;
};
using TransferProgress = std::function<void(const TransferEvent&)>;
std::string_view TransferStateName(TransferEvent::State state);

struct PullOptions {
  RegistryConfig registry;
  std::optional<oci::Platform> platform;  // default: the host's
  int parallel = 3;
  TransferProgress progress;
  // The name the image gets (default: the reference pulled); a mirror's image keeps the name
  // the user asked for.
  std::optional<oci::Reference> record_as;
  // PullByName: told about each place it tries.
  std::function<void(const PullSource& source)> on_try;
};

struct PullResult {
  image::ImageRecord image;
  std::string name;    // the image's name in the store (normalized reference)
  std::string digest;  // what the reference resolved to (the index's digest for an index)
  bool up_to_date = false;  // the store had this image under this name already
};

Result<PullResult> Pull(image::ImageStore& store, const oci::Reference& reference,
                        const PullOptions& options);
// Pulls what the user typed: a short name from each search registry in turn, mirrors before
// the registry itself (registries.conf); the first that works wins, and when none does the
// error lists every attempt. An insecure entry allows plain HTTP unless options.registry
// says otherwise.
Result<PullResult> PullByName(image::ImageStore& store, std::string_view text,
                              const RegistriesConf& conf, const PullOptions& options);

struct PushOptions {
  RegistryConfig registry;
  int parallel = 3;
  int64_t chunk_size = 0;  // > 0: upload blobs in PATCH requests of this size
  // Layers stored as plain tars are sent compressed this way (kNone: as stored); the
  // manifest pushed then names the compressed blobs.
  oci::Compression compression = oci::Compression::kGzip;
  TransferProgress progress;
};

struct PushResult {
  std::string digest;  // of the manifest pushed
  int64_t size = 0;
};

// Pushes `image` to `destination` (a tag or a digest reference).
Result<PushResult> Push(image::ImageStore& store, const image::ImageRecord& image,
                        const oci::Reference& destination, const PushOptions& options);

}  // namespace berth::registry
