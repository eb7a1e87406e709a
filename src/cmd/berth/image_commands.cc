// berth CLI: images, rmi, tag, history, load, save, import and `image prune`, as docker
// prints them (`image inspect` is in container_info_commands.cc with `inspect`).
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>

#include "berth/base/strings.h"
#include "berth/base/time.h"
#include "berth/image/archive.h"
#include "berth/oci/reference.h"
#include "cli.h"
#include "views.h"

namespace berth::cli {
namespace {

struct ImagesFlags {
  bool all = false, quiet = false, no_trunc = false, digests = false;
  std::string format, reference;
  std::vector<std::string> filters;
};

Result<bool> ImageMatches(const image::ImageRecord& img, const RepoTag& rt,
                          const std::vector<std::string>& filters) {
  for (const auto& f : filters) {
    size_t eq = f.find('=');
    std::string key = f.substr(0, eq), value = eq == std::string::npos ? "" : f.substr(eq + 1);
    if (key == "dangling") {
      if ((value == "true") != img.names.empty()) return false;
    } else if (key == "reference") {
      std::string full = rt.repository + ":" + rt.tag;
      if (fnmatch(value.c_str(), rt.repository.c_str(), 0) != 0 &&
          fnmatch(value.c_str(), full.c_str(), 0) != 0) {
        return false;
      }
    } else {
      return InvalidArgument(StrCat("--filter: invalid filter ", Quote(key)));
    }
  }
  return true;
}

Result<int> Images(Context& ctx, const ImagesFlags& f) {
  BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
  BERTH_ASSIGN_OR_RETURN(std::vector<image::ImageRecord> list, eng->images().List());
  std::sort(list.begin(), list.end(),
            [](const auto& a, const auto& b) { return TimeNs(a.created) > TimeNs(b.created); });
  std::vector<std::string> filters = f.filters;
  if (!f.reference.empty()) filters.push_back("reference=" + f.reference);
  int64_t now = NowUnixNano();
  std::vector<Json> rows;
  std::set<std::string> ids;
  for (const auto& img : list) {
    for (const auto& rt : RepoTags(img)) {
      BERTH_ASSIGN_OR_RETURN(bool ok, ImageMatches(img, rt, filters));
      if (!ok) continue;
      if (f.quiet) {
        // -q prints each image once.
        if (ids.insert(img.id).second) Print((f.no_trunc ? img.id : TruncateId(img.id)) + "\n");
        continue;
      }
      rows.push_back(ImageRow(img, rt, f.no_trunc, now));
    }
  }
  if (f.quiet) return 0;
  BERTH_ASSIGN_OR_RETURN(
      std::string out,
      FormatList(f.format, rows, f.digests ? ImagesDigestsFormat() : ImagesFormat()));
  Print(out);
  return 0;
}

Result<int> History(Context& ctx, const std::string& ref, bool no_trunc, bool quiet,
                    const std::string& format) {
  BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
  BERTH_ASSIGN_OR_RETURN(image::ImageRecord img, eng->images().Resolve(ref));
  BERTH_ASSIGN_OR_RETURN(oci::ImageConfig cfg, eng->images().Config(img));
  BERTH_ASSIGN_OR_RETURN(oci::Manifest m, eng->images().ManifestOf(img));
  int64_t now = NowUnixNano();
  std::vector<Json> rows;
  size_t layer = 0;
  std::vector<oci::HistoryEntry> history = cfg.history;
  if (history.empty()) {
    // An image without history: one entry per layer.
    for (size_t i = 0; i < m.layers.size(); ++i)
      history.push_back({cfg.created, "", "", "", false});
  }
  for (const auto& h : history) {
    int64_t size = 0;
    if (!h.empty_layer && layer < m.layers.size()) size = m.layers[layer++].size;
    int64_t created = TimeNs(h.created);
    Json row;
    row["CreatedAt"] = created ? DockerTime(created) : "N/A";
    row["CreatedSince"] =
        created ? HumanDuration(std::max<int64_t>(0, now - created)) + " ago" : "N/A";
    row["CreatedBy"] = no_trunc ? h.created_by : Ellipsis(h.created_by, 45);
    row["Size"] = HumanSize(static_cast<double>(size));
    row["Comment"] = h.comment;
    rows.push_back(std::move(row));
  }
  std::reverse(rows.begin(), rows.end());  // newest first
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i]["ID"] = i == 0 ? (no_trunc ? img.id : TruncateId(img.id)) : "<missing>";
  }
  if (quiet) {
    for (const auto& r : rows) Print(r["ID"].get<std::string>() + "\n");
    return 0;
  }
  BERTH_ASSIGN_OR_RETURN(std::string out, FormatList(format, rows, HistoryFormat()));
  Print(out);
  return 0;
}

}  // namespace

// Shared with system prune: removes unused images (only unnamed ones unless `all`) and
// prints docker's "Deleted Images:" section; returns the bytes of the images removed.
Result<int64_t> PruneImages(engine::Engine& eng, bool all, std::string& out) {
  BERTH_ASSIGN_OR_RETURN(std::vector<image::ImageRecord> list, eng.images().List());
  BERTH_ASSIGN_OR_RETURN(std::vector<engine::ContainerRecord> containers, eng.List(true));
  std::set<std::string> used;
  for (const auto& c : containers) used.insert(c.image);
  int64_t freed = 0;
  std::string lines;
  for (const auto& img : list) {
    if (used.count(img.id) || (!all && !img.names.empty())) continue;
    BERTH_ASSIGN_OR_RETURN(std::vector<std::string> removed, eng.RemoveImage(img.id, false));
    for (auto& l : removed) {
      if (!l.empty()) l[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(l[0])));
      lines += l + "\n";
    }
    freed += img.size;
  }
  if (!lines.empty()) out += "Deleted Images:\n" + lines + "\n";
  return freed;
}

bool Confirm(std::string_view warning) {
  Print(StrCat(warning, "\nAre you sure you want to continue? [y/N] "));
  std::fflush(stdout);
  char buf[16] = {};
  if (!std::fgets(buf, sizeof buf, stdin)) return false;
  return buf[0] == 'y' || buf[0] == 'Y';
}

void AddImageCommands(CLI::App* parent, bool in_group, Registry& r) {
  AddRegistryClientCommands(parent, in_group, r);
  Context& ctx = r.ctx();
  if (CLI::App* sub = r.Add(parent, in_group ? "ls,list" : "images", "list images")) {
    auto f = std::make_shared<ImagesFlags>();
    sub->add_option("reference", f->reference, "REPOSITORY[:TAG] pattern");
    sub->add_flag("-a,--all", f->all, "show all images");
    sub->add_flag("-q,--quiet", f->quiet, "only show image ids");
    sub->add_flag("--no-trunc", f->no_trunc, "do not truncate output");
    sub->add_flag("--digests", f->digests, "show digests");
    sub->add_option("--format", f->format, "table, json or a Go template");
    AddMulti(sub, "-f,--filter", f->filters, "filter: dangling=true|false, reference=PATTERN");
    r.Push(sub, [f, &ctx]() { return Images(ctx, *f); });
  }

  if (in_group) {
    if (CLI::App* sub = r.Add(parent, "inspect", "show images in detail")) {
      auto names = std::make_shared<std::vector<std::string>>();
      auto format = std::make_shared<std::string>();
      sub->add_option("images", *names, "image names or ids")->required();
      sub->add_option("-f,--format", *format, "json or a Go template");
      r.Push(sub, [names, format, &ctx]() -> Result<int> {
        BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
        std::vector<Json> objects;
        std::string errors;
        for (const auto& n : *names) {
          auto img = eng->images().Resolve(n);
          if (!img) {
            errors += StrCat("Error: No such image: ", n, "\n");
            continue;
          }
          BERTH_ASSIGN_OR_RETURN(oci::ImageConfig cfg, eng->images().Config(*img));
          objects.push_back(ImageInspect(*img, cfg, eng->images().LayerDirs(*img)));
        }
        BERTH_ASSIGN_OR_RETURN(std::string out, FormatInspect(*format, objects));
        Print(out);
        std::fflush(stdout);
        std::fputs(errors.c_str(), stderr);
        return errors.empty() ? 0 : engine::kExitEngineError;
      });
    }
  }

  if (CLI::App* sub = r.Add(parent, in_group ? "rm,remove" : "rmi", "remove images")) {
    auto names = std::make_shared<std::vector<std::string>>();
    auto force = std::make_shared<bool>(false);
    sub->add_option("images", *names, "image names or ids")->required();
    sub->add_flag("-f,--force", *force, "remove even if containers use it");
    AddIgnoredFlag(sub, "--no-prune", "accepted");
    r.Push(sub, [names, force, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      int rc = 0;
      for (const auto& n : *names) {
        auto lines = eng->RemoveImage(n, *force);
        if (!lines) {
          std::fflush(stdout);
          std::fprintf(stderr, "Error: %s\n", lines.error().message().c_str());
          rc = engine::kExitEngineError;
          continue;
        }
        for (const auto& l : *lines) Print(l + "\n");
      }
      return rc;
    });
  }

  if (CLI::App* sub = r.Add(parent, "tag", "add a name to an image")) {
    auto args = std::make_shared<std::pair<std::string, std::string>>();
    sub->add_option("source", args->first, "SOURCE_IMAGE[:TAG]")->required();
    sub->add_option("target", args->second, "TARGET_IMAGE[:TAG]")->required();
    r.Push(sub, [args, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_ASSIGN_OR_RETURN(image::ImageRecord img, eng->images().Resolve(args->first));
      BERTH_TRY(eng->images().Tag(img, args->second));
      return 0;
    });
  }

  if (CLI::App* sub = r.Add(parent, "history", "show the history of an image")) {
    struct HistoryFlags {
      std::string image, format;
      bool no_trunc = false, quiet = false, human = true;
    };
    auto f = std::make_shared<HistoryFlags>();
    sub->add_option("image", f->image, "image name or id")->required();
    sub->add_flag("--no-trunc", f->no_trunc, "do not truncate output");
    sub->add_flag("-q,--quiet", f->quiet, "only show image ids");
    sub->add_flag("-H,--human", f->human, "accepted (sizes are always human)");
    sub->add_option("--format", f->format, "table, json or a Go template");
    r.Push(sub, [f, &ctx]() { return History(ctx, f->image, f->no_trunc, f->quiet, f->format); });
  }

  if (CLI::App* sub = r.Add(parent, "load", "load images from a docker-archive or oci-archive")) {
    auto input = std::make_shared<std::string>();
    auto quiet = std::make_shared<bool>(false);
    sub->add_option("-i,--input", *input, "read from a file instead of stdin");
    sub->add_flag("-q,--quiet", *quiet, "print nothing");
    r.Push(sub, [input, quiet, &ctx]() -> Result<int> {
      if (input->empty() && isatty(STDIN_FILENO)) {
        return InvalidArgument(
            "requested load from stdin, but stdin is a terminal: use -i or redirect");
      }
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_ASSIGN_OR_RETURN(std::vector<image::LoadedImage> loaded,
                             image::LoadArchive(eng->images(), input->empty() ? "-" : *input));
      if (*quiet) return 0;
      std::string out;
      for (const auto& l : loaded) {
        // As docker: the archive's names, or the id when it named none.
        if (l.names.empty()) out += "Loaded image ID: " + l.image.id + "\n";
        for (const auto& n : l.names) out += "Loaded image: " + FamiliarName(n) + "\n";
      }
      Print(out);
      return 0;
    });
  }

  if (CLI::App* sub = r.Add(parent, "save", "write images to a docker-archive or oci-archive")) {
    struct SaveFlags {
      std::vector<std::string> images;
      std::string output, format = "docker-archive";
    };
    auto f = std::make_shared<SaveFlags>();
    sub->add_option("images", f->images, "image names or ids")->required();
    sub->add_option("-o,--output", f->output, "write to a file instead of stdout");
    sub->add_option("--format", f->format, "docker-archive or oci-archive")
        ->check(CLI::IsMember({"docker-archive", "oci-archive"}))
        ->capture_default_str();
    r.Push(sub, [f, &ctx]() -> Result<int> {
      if (f->output.empty() && isatty(STDOUT_FILENO)) {
        return InvalidArgument(
            "cowardly refusing to write an archive to a terminal: use -o or redirect");
      }
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      std::fflush(stdout);
      BERTH_TRY(image::SaveArchive(
          eng->images(), f->images,
          f->format == "oci-archive" ? image::ArchiveFormat::kOci : image::ArchiveFormat::kDocker,
          f->output.empty() ? "-" : f->output));
      return 0;
    });
  }

  if (CLI::App* sub = r.Add(parent, "import", "create an image from a rootfs tarball")) {
    struct ImportFlags {
      std::string file, ref;
      image::NewImageOptions o;
      std::string platform;
    };
    auto f = std::make_shared<ImportFlags>();
    sub->add_option("file", f->file, "FILE or - for stdin")->required();
    sub->add_option("repository", f->ref, "REPOSITORY[:TAG]");
    AddMulti(sub, "-c,--change", f->o.changes, "Dockerfile instruction to apply (CMD, ENV, ...)");
    sub->add_option("-m,--message", f->o.message, "commit message");
    sub->add_option("--platform", f->platform, "accepted; the host platform is used");
    r.Push(sub, [f, &ctx]() -> Result<int> {
      if (f->file.find("://") != std::string::npos) {
        return Fail(ErrorCode::kUnsupported, "import from a URL is not supported");
      }
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      f->o.name = f->ref;
      BERTH_ASSIGN_OR_RETURN(image::ImageRecord img,
                             image::ImportTarball(eng->images(), f->file, f->o));
      Print(img.id + "\n");
      return 0;
    });
  }

  if (in_group) {
    if (CLI::App* sub = r.Add(parent, "prune", "remove unused images")) {
      auto fl = std::make_shared<std::pair<bool, bool>>(false, false);
      sub->add_flag("-a,--all", fl->first,
                    "remove all images no container uses, not just unnamed ones");
      sub->add_flag("-f,--force", fl->second, "do not prompt for confirmation");
      r.Push(sub, [fl, &ctx]() -> Result<int> {
        if (!fl->second && !Confirm(fl->first ? "WARNING! This will remove all images without at "
                                                "least one container associated to them."
                                              : "WARNING! This will remove all dangling images.")) {
          return 0;
        }
        BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
        std::string out;
        BERTH_ASSIGN_OR_RETURN(int64_t freed, PruneImages(*eng, fl->first, out));
        Print(out + "Total reclaimed space: " + HumanSize(static_cast<double>(freed)) + "\n");
        return 0;
      });
    }
  }
}

}  // namespace berth::cli
