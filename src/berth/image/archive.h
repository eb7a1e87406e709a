// berth/image: image archives and other ways images enter and leave the store.
//   docker-archive: manifest.json + <config>.json + layer tars (what `docker save` and
//                   `podman save` write by default)
//   oci-archive:    an OCI image layout (oci-layout, index.json, blobs/) as a tar
// Load detects the format. Save writes either, interchangeable with podman load/save.
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/image/image_store.h"
#include "berth/image/layer_pack.h"
#include "berth/image/layer_unpack.h"

namespace berth::image {

enum class ArchiveFormat { kDocker, kOci };

struct LoadedImage {
  ImageRecord image;               // with every name it has in the store now
  std::vector<std::string> names;  // the names the archive gave it (docker prints these)
};

// Loads every image of the archive at `path` ("-" is stdin). Blobs are verified; nothing
// becomes visible unless the whole image loaded.
Result<std::vector<LoadedImage>> LoadArchive(ImageStore& store, const std::string& path);

// Writes the images named by `refs` (names or ids) to `path` ("-" is stdout).
Status SaveArchive(ImageStore& store, const std::vector<std::string>& refs, ArchiveFormat format,
                   const std::string& path);

// Applies docker's --change instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER,
// VOLUME, WORKDIR, STOPSIGNAL, ONBUILD) to `config`; errors name the instruction.
Status ApplyChanges(oci::ContainerConfig& config, const std::vector<std::string>& changes);

struct NewImageOptions {
  std::vector<std::string> changes;
  std::string message;   // history comment
  std::string author;
  std::string name;      // reference to tag, may be empty
};
// `import`: a rootfs tarball (any compression) becomes a one-layer image.
Result<ImageRecord> ImportTarball(ImageStore& store, const std::string& path,
                                  const NewImageOptions& options);
// `commit`: a container's upper dir becomes a new layer on top of `base`.
Result<ImageRecord> CommitLayer(ImageStore& store, const ImageRecord& base,
                                const std::string& upper_dir,
                                const oci::ContainerConfig& config,
                                const NewImageOptions& options);

}  // namespace berth::image
