// berth/engine: network records and address leases in berth.db.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/engine/network.h"
#include "berth/image/db.h"

namespace berth::engine {

class NetworkStore {
 public:
  explicit NetworkStore(image::Database& db) : db_(db) {}
  static std::string_view Schema();

  // Fails with kAlreadyExists naming the network that holds the name.
  Status Insert(const NetworkRecord& n);
  Result<std::optional<NetworkRecord>> FindById(const std::string& id);
  // By name, full id or unique id prefix.
  Result<NetworkRecord> Find(const std::string& name_or_id);
  Result<std::vector<NetworkRecord>> All();
  // Deletes the record and any lease left on it.
  Status Delete(const std::string& id);

  // Leases one address of `subnet` to `container`: `wanted` if given (an error names it if
  // it is outside the range or taken), else the lowest free one. Network, broadcast and
  // gateway addresses are never leased.
  Result<net::IpAddress> Lease(const NetworkRecord& n, const NetworkSubnet& subnet,
                               const std::string& container, std::optional<net::IpAddress> wanted);
  Status ReleaseAll(const std::string& container, const std::string& network_id = "");
  // Lease rows: (network id, address, container).
  struct LeaseRow {
    std::string network_id, address, container;
  };
  Result<std::vector<LeaseRow>> Leases();
  image::Database& db() { return db_; }

 private:
  image::Database& db_;
};

}  // namespace berth::engine
