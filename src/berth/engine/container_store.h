// berth/engine: container and volume records in berth.db. A record is one JSON document
// per container (the columns are only what must be unique or searched), so adding a field
// needs no migration. Every change is a read-modify-write inside one transaction.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/engine/engine.h"
#include "berth/image/db.h"

namespace berth::engine {

Json RecordToJson(const ContainerRecord& c);
Result<ContainerRecord> RecordFromJson(const Json& j);

class ContainerStore {
 public:
  explicit ContainerStore(image::Database& db) : db_(db) {}
  static std::string_view Schema();

  // Fails with kAlreadyExists naming the container that holds the name.
  Status Insert(const ContainerRecord& c);
  Result<std::optional<ContainerRecord>> FindById(const std::string& id);
  // By full id, unique id prefix or name ("/name" accepted).
  Result<ContainerRecord> Find(const std::string& name_or_id);
  Result<std::vector<ContainerRecord>> All();
  // Applies `change` to the stored record atomically; returns the new record.
  Result<ContainerRecord> Update(const std::string& id,
                                 const std::function<Status(ContainerRecord&)>& change);
  Status Delete(const std::string& id);

  Status InsertVolume(const Engine::Volume& v);
  Result<std::optional<Engine::Volume>> FindVolume(const std::string& name);
  Result<std::vector<Engine::Volume>> AllVolumes();
  Status DeleteVolume(const std::string& name);

 private:
  image::Database& db_;
};

}  // namespace berth::engine
