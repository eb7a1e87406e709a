#include "berth/net/links.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sys/random.h>

#include <cstring>

#include "berth/base/strings.h"

namespace berth::net {
namespace {

// Owners for the libnl objects (reference counted on their side; put drops ours).
struct LinkPut {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrPut {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct RoutePut {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
struct NlAddrPut {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct CacheFree {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};
struct MsgFree {
  void operator()(nl_msg* m) const { nlmsg_free(m); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkPut>;
using AddrPtr = std::unique_ptr<rtnl_addr, AddrPut>;
using RoutePtr = std::unique_ptr<rtnl_route, RoutePut>;
using NlAddrPtr = std::unique_ptr<nl_addr, NlAddrPut>;
using MsgPtr = std::unique_ptr<nl_msg, MsgFree>;

bool IsMissing(int nlerr) { return nlerr == -NLE_NODEV || nlerr == -NLE_OBJ_NOTFOUND; }

// libnl folds kernel errnos into its own codes; back to an errno for the ones it keeps
// apart (the error callback below usually has the exact errno anyway).
int NlToErrno(int nlerr) {
  switch (nlerr < 0 ? -nlerr : nlerr) {
    case NLE_EXIST:
      return EEXIST;
    case NLE_NODEV:
      return ENODEV;
    case NLE_OBJ_NOTFOUND:
      return ENOENT;
    case NLE_INVAL:
      return EINVAL;
    case NLE_RANGE:
      return ERANGE;
    case NLE_BUSY:
      return EBUSY;
    case NLE_PERM:
      return EPERM;
    case NLE_NOACCESS:
      return EACCES;
    case NLE_NOMEM:
      return ENOMEM;
    case NLE_OPNOTSUPP:
      return EOPNOTSUPP;
    case NLE_AF_NOSUPPORT:
      return EAFNOSUPPORT;
    case NLE_NOADDR:
      return EADDRNOTAVAIL;
    case NLE_MSGSIZE:
      return EMSGSIZE;
    case NLE_AGAIN:
      return EAGAIN;
    case NLE_INTR:
      return EINTR;
    default:
      return 0;
  }
}

NlAddrPtr ToNlAddr(const IpAddress& a, int prefix_len) {
  NlAddrPtr out(nl_addr_build(a.family, a.bytes.data(), a.is_v4() ? 4 : 16));
  if (out) nl_addr_set_prefixlen(out.get(), prefix_len);
  return out;
}

Status CheckName(const std::string& name) {
  // IFNAMSIZ - 1; the kernel would only say "Invalid argument".
  if (name.empty() || name.size() > 15 || name.find('/') != std::string::npos) {
    return InvalidArgument(StrCat("bad interface name ", Quote(name), " (1 to 15 bytes, no `/`)"));
  }
  return Ok();
}

}  // namespace

struct Links::Impl {
  nl_sock* sk = nullptr;
  // What the kernel said about the last failed request: errno and extended-ack text.
  int last_errno = 0;
  std::string last_extack;

  ~Impl() {
    if (sk) nl_socket_free(sk);
  }

  static int OnError(sockaddr_nl*, nlmsgerr* e, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    self->last_errno = -e->error;
    self->last_extack.clear();
    // With NETLINK_EXT_ACK the kernel appends attributes after the echoed request.
    auto* nlh = reinterpret_cast<nlmsghdr*>(reinterpret_cast<char*>(e) - NLMSG_HDRLEN);
    if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
      size_t off = sizeof(nlmsgerr);
      if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) off += e->msg.nlmsg_len - NLMSG_HDRLEN;
      off = NLMSG_ALIGN(off);
      size_t payload = nlh->nlmsg_len - NLMSG_HDRLEN;
      if (off < payload) {
        nlattr* tb[NLMSGERR_ATTR_MAX + 1] = {};
        auto* attrs = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(e) + off);
        int len = static_cast<int>(payload - off);
        if (nla_parse(tb, NLMSGERR_ATTR_MAX, attrs, len, nullptr) == 0 && tb[NLMSGERR_ATTR_MSG]) {
          const char* s = static_cast<const char*>(nla_data(tb[NLMSGERR_ATTR_MSG]));
          self->last_extack.assign(s, strnlen(s, nla_len(tb[NLMSGERR_ATTR_MSG])));
        }
      }
    }
    return NL_STOP;  // libnl returns -nl_syserr2nlerr(error) to the caller
  }

  void Clear() {
    last_errno = 0;
    last_extack.clear();
  }

  // The error for a failed request `what`, with the kernel's own words when it gave some.
  Error NlFail(int nlerr, std::string_view what) const {
    int err = last_errno ? last_errno : NlToErrno(nlerr);
    if (!err) return Error(ErrorCode::kSystem, StrCat(what, ": ", nl_geterror(nlerr)));
    Error e = Error::Sys(err, what);
    if (last_extack.empty()) return e;
    return Error(e.code(), StrCat(e.message(), " (", last_extack, ")"), err);
  }

  int SendAndAck(nl_msg* msg) {
    Clear();
    int err = nl_send_auto(sk, msg);
    if (err < 0) return err;
    return nl_wait_for_ack(sk);
  }

  // The link named `name`, or a missing-link error code (-NLE_NODEV / -NLE_OBJ_NOTFOUND).
  int GetLink(const std::string& name, LinkPtr* out) {
    Clear();
    rtnl_link* raw = nullptr;
    int err = rtnl_link_get_kernel(sk, 0, name.c_str(), &raw);
    out->reset(raw);
    return err;
  }

  Result<int> IfIndex(const std::string& name) {
    LinkPtr link;
    int err = GetLink(name, &link);
    if (err < 0) return Unexpected(NlFail(err, StrCat("find link ", Quote(name))));
    return rtnl_link_get_ifindex(link.get());
  }

  // Sets IFF_UP (and the MTU when non-zero) on an existing link, by name: one request.
  int SetUp(const std::string& name, int mtu) {
    Clear();
    LinkPtr orig(rtnl_link_alloc()), change(rtnl_link_alloc());
    if (!orig || !change) return -NLE_NOMEM;
    rtnl_link_set_name(orig.get(), name.c_str());
    rtnl_link_set_name(change.get(), name.c_str());
    rtnl_link_set_flags(change.get(), IFF_UP);
    if (mtu > 0) rtnl_link_set_mtu(change.get(), static_cast<unsigned>(mtu));
    return rtnl_link_change(sk, orig.get(), change.get(), 0);
  }

  // Adds `p` (a host address with its prefix length) to `ifindex`; an address already
  // there is fine. IPv6 skips duplicate address detection: the address is usable at once
  // rather than after a second of "tentative" (nobody else on a berth bridge claims it).
  Status AddAddress(int ifindex, const Prefix& p, std::string_view ifname) {
    std::string what = StrCat("add address ", Quote(p.ToString()), " to ", Quote(ifname));
    AddrPtr a(rtnl_addr_alloc());
    NlAddrPtr local = ToNlAddr(p.addr, p.len);
    if (!a || !local) return Fail(ErrorCode::kInternal, what + ": out of memory");
    rtnl_addr_set_ifindex(a.get(), ifindex);
    rtnl_addr_set_family(a.get(), p.addr.family);
    int err = rtnl_addr_set_local(a.get(), local.get());
    if (err < 0) return Unexpected(NlFail(err, what));
    rtnl_addr_set_prefixlen(a.get(), p.len);
    if (p.addr.is_v4() && p.len < 31) {
      // The subnet's broadcast address, as docker and `ip addr add ... brd +` set it.
      IpAddress brd = p.addr;
      for (int bit = p.len; bit < 32; ++bit)
        brd.bytes[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
      NlAddrPtr b = ToNlAddr(brd, 32);
      if (b) rtnl_addr_set_broadcast(a.get(), b.get());
    }
    if (!p.addr.is_v4()) rtnl_addr_set_flags(a.get(), IFA_F_NODAD);
    Clear();
    err = rtnl_addr_add(sk, a.get(), NLM_F_EXCL);
    if (err < 0 && err != -NLE_EXIST) return Unexpected(NlFail(err, what));
    return Ok();
  }

  Status AddDefaultRoute(int ifindex, const IpAddress& gw, std::string_view ifname) {
    std::string what =
        StrCat("add default route via ", Quote(gw.ToString()), " dev ", Quote(ifname));
    RoutePtr r(rtnl_route_alloc());
    IpAddress any;
    any.family = gw.family;
    NlAddrPtr dst = ToNlAddr(any, 0);
    NlAddrPtr via = ToNlAddr(gw, gw.bits());
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    if (!r || !dst || !via || !nh) {
      if (nh) rtnl_route_nh_free(nh);
      return Fail(ErrorCode::kInternal, what + ": out of memory");
    }
    rtnl_route_set_family(r.get(), static_cast<uint8_t>(gw.family));
    rtnl_route_set_table(r.get(), RT_TABLE_MAIN);
    rtnl_route_set_protocol(r.get(), RTPROT_BOOT);
    rtnl_route_set_scope(r.get(), RT_SCOPE_UNIVERSE);
    rtnl_route_set_type(r.get(), RTN_UNICAST);
    int err = rtnl_route_set_dst(r.get(), dst.get());
    if (err < 0) {
      rtnl_route_nh_free(nh);
      return Unexpected(NlFail(err, what));
    }
    rtnl_route_nh_set_ifindex(nh, ifindex);
    rtnl_route_nh_set_gateway(nh, via.get());
    rtnl_route_add_nexthop(r.get(), nh);  // the route owns it now
    Clear();
    err = rtnl_route_add(sk, r.get(), NLM_F_EXCL);
    if (err < 0 && err != -NLE_EXIST) return Unexpected(NlFail(err, what));
    return Ok();
  }

  // RTM_NEWLINK for a bridge, built by hand: libnl 3.7 has no setters for the bridge's own
  // IFLA_BR_* options. STP off and forward delay 0 so that a new port forwards at once
  // instead of listening/learning for 2 × 15 s; an explicit MAC so the bridge's address
  // does not follow the lowest port MAC as containers come and go (neighbours of the
  // gateway would see it flap). Created up, so no second request is needed.
  int CreateBridge(const BridgeConfig& b, const std::array<uint8_t, 6>& mac) {
    MsgPtr msg(nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL));
    if (!msg) return -NLE_NOMEM;
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_flags = IFF_UP;
    ifi.ifi_change = IFF_UP;
    if (nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0) return -NLE_MSGSIZE;
    if (nla_put_string(msg.get(), IFLA_IFNAME, b.name.c_str()) < 0) return -NLE_MSGSIZE;
    if (b.mtu > 0 && nla_put_u32(msg.get(), IFLA_MTU, static_cast<uint32_t>(b.mtu)) < 0) {
      return -NLE_MSGSIZE;
    }
    if (nla_put(msg.get(), IFLA_ADDRESS, 6, mac.data()) < 0) return -NLE_MSGSIZE;
    nlattr* info = nla_nest_start(msg.get(), IFLA_LINKINFO);
    if (!info || nla_put_string(msg.get(), IFLA_INFO_KIND, "bridge") < 0) return -NLE_MSGSIZE;
    nlattr* data = nla_nest_start(msg.get(), IFLA_INFO_DATA);
    if (!data || nla_put_u32(msg.get(), IFLA_BR_FORWARD_DELAY, 0) < 0 ||
        nla_put_u32(msg.get(), IFLA_BR_STP_STATE, 0) < 0) {
      return -NLE_MSGSIZE;
    }
    nla_nest_end(msg.get(), data);
    nla_nest_end(msg.get(), info);
    return SendAndAck(msg.get());
  }

  // An RTM_NEWLINK that changes the existing link `name`; the caller adds the attributes.
  // Null when out of memory (the header and a name always fit a fresh message).
  static MsgPtr ChangeLinkMessage(const std::string& name) {
    MsgPtr msg(nlmsg_alloc_simple(RTM_NEWLINK, 0));
    if (!msg) return nullptr;
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    if (nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
        nla_put_string(msg.get(), IFLA_IFNAME, name.c_str()) < 0) {
      return nullptr;
    }
    return msg;
  }

  // The kernel takes IFLA_IFALIAS only on a change, not with a link's creation.
  int SetAlias(const std::string& name, const std::string& alias) {
    MsgPtr msg = ChangeLinkMessage(name);
    if (!msg) return -NLE_NOMEM;
    if (nla_put_string(msg.get(), IFLA_IFALIAS, alias.c_str()) < 0) return -NLE_MSGSIZE;
    return SendAndAck(msg.get());
  }

  // Hairpin mode on a bridge port: a frame may leave by the port it came in by. Without it
  // a container's packet to its own published port on the host's address, DNATed back to
  // it, would be dropped by the bridge. Sent as slave data of an existing port: the kernel
  // does not take it with the port's creation.
  int SetHairpin(const std::string& port) {
    MsgPtr msg = ChangeLinkMessage(port);
    if (!msg) return -NLE_NOMEM;
    nlattr* info = nla_nest_start(msg.get(), IFLA_LINKINFO);
    if (!info) return -NLE_MSGSIZE;
    nlattr* data = nla_nest_start(msg.get(), IFLA_INFO_SLAVE_DATA);
    if (!data || nla_put_u8(msg.get(), IFLA_BRPORT_MODE, 1) < 0) return -NLE_MSGSIZE;
    nla_nest_end(msg.get(), data);
    nla_nest_end(msg.get(), info);
    return SendAndAck(msg.get());
  }
};

Result<Links> Links::Open() {
  Links l;
  l.impl_ = std::make_unique<Impl>();
  Impl& im = *l.impl_;
  im.sk = nl_socket_alloc();
  if (!im.sk) return Fail(ErrorCode::kInternal, "open rtnetlink socket: out of memory");
  int err = nl_connect(im.sk, NETLINK_ROUTE);
  if (err < 0) return Unexpected(im.NlFail(err, "open rtnetlink socket"));
  int fd = nl_socket_get_fd(im.sk);
  // Every fd O_CLOEXEC: the engine forks runtimes while a Links may be open.
  int fdflags = ::fcntl(fd, F_GETFD);
  if (fdflags >= 0 && !(fdflags & FD_CLOEXEC)) ::fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC);
  // The kernel's explanation ("Nexthop has invalid gateway") in errors; best effort.
  int one = 1;
  (void)::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  nl_socket_modify_err_cb(im.sk, NL_CB_CUSTOM, &Impl::OnError, &im);
  return l;
}

Links::Links(Links&&) noexcept = default;
Links& Links::operator=(Links&&) noexcept = default;
Links::~Links() = default;

bool Links::Exists(const std::string& name) {
  LinkPtr link;
  return impl_->GetLink(name, &link) >= 0;
}

std::optional<std::string> Links::Alias(const std::string& name) {
  LinkPtr link;
  if (impl_->GetLink(name, &link) < 0) return std::nullopt;
  const char* alias = rtnl_link_get_ifalias(link.get());
  return std::string(alias ? alias : "");
}

Status Links::EnsureBridge(const BridgeConfig& b) {
  std::string what = StrCat("set up bridge ", Quote(b.name));
  BERTH_TRY_CTX(CheckName(b.name), what);
  LinkPtr link;
  int err = impl_->GetLink(b.name, &link);
  if (IsMissing(err)) {
    std::array<uint8_t, 6> mac{};
    const IpAddress* gw4 = nullptr;
    for (const Prefix& g : b.gateways) {
      if (g.addr.is_v4()) {
        gw4 = &g.addr;
        break;
      }
    }
    if (gw4) {
      mac = MacForAddress(*gw4);
    } else {
      if (::getrandom(mac.data(), mac.size(), 0) != static_cast<ssize_t>(mac.size())) {
        return Unexpected(Error::Errno("getrandom").Wrap(what));
      }
      mac[0] = static_cast<uint8_t>((mac[0] & 0xfe) | 0x02);  // unicast, locally administered
    }
    err = impl_->CreateBridge(b, mac);
    // EEXIST: another berth process made it in between; use theirs.
    if (err < 0 && err != -NLE_EXIST)
      return Unexpected(impl_->NlFail(err, StrCat("create bridge ", Quote(b.name))));
    err = impl_->GetLink(b.name, &link);
  }
  if (err < 0)
    return Unexpected(impl_->NlFail(err, StrCat("find link ", Quote(b.name))).Wrap(what));

  const char* type = rtnl_link_get_type(link.get());
  if (!type || std::strcmp(type, "bridge") != 0) {
    return Fail(ErrorCode::kAlreadyExists,
                StrCat(what, ": a link named ", Quote(b.name), " exists and is not a bridge (",
                       type ? type : "no type", ")"));
  }
  const char* alias = rtnl_link_get_ifalias(link.get());
  if (!b.alias.empty() && b.alias != (alias ? alias : "")) {
    err = impl_->SetAlias(b.name, b.alias);
    if (err < 0) return Unexpected(impl_->NlFail(err, "set its alias").Wrap(what));
  }
  int ifindex = rtnl_link_get_ifindex(link.get());
  bool up = rtnl_link_get_flags(link.get()) & IFF_UP;
  bool mtu_ok = b.mtu <= 0 || rtnl_link_get_mtu(link.get()) == static_cast<unsigned>(b.mtu);
  if (!up || !mtu_ok) {
    err = impl_->SetUp(b.name, mtu_ok ? 0 : b.mtu);
    if (err < 0) return Unexpected(impl_->NlFail(err, "bring it up").Wrap(what));
  }
  for (const Prefix& g : b.gateways) BERTH_TRY_CTX(impl_->AddAddress(ifindex, g, b.name), what);
  return Ok();
}

Status Links::CreateVeth(const VethConfig& v) {
  std::string what = StrCat("create veth ", Quote(v.host_name), " on bridge ", Quote(v.bridge));
  BERTH_TRY_CTX(CheckName(v.host_name), what);
  BERTH_TRY_CTX(CheckName(v.peer_name), what);
  if (v.peer_netns_fd < 0)
    return InvalidArgument(StrCat(what, ": no network namespace for the peer"));
  BERTH_ASSIGN_OR_RETURN_CTX(int master, impl_->IfIndex(v.bridge), what);

  LinkPtr host(rtnl_link_veth_alloc());
  if (!host) return Fail(ErrorCode::kInternal, what + ": out of memory");
  LinkPtr peer(rtnl_link_veth_get_peer(host.get()));  // takes a reference of its own
  rtnl_link_set_name(host.get(), v.host_name.c_str());
  rtnl_link_set_master(host.get(), master);
  rtnl_link_set_flags(host.get(), IFF_UP);
  rtnl_link_set_name(peer.get(), v.peer_name.c_str());
  // The kernel creates the peer directly in the container's namespace: no move afterwards,
  // and its name cannot clash with host links.
  rtnl_link_set_ns_fd(peer.get(), v.peer_netns_fd);
  // One TX and one RX queue per end: by default the kernel makes one per CPU and then cuts
  // them back, waiting for an RCU grace period (~1 ms) to do so.
  rtnl_link_set_num_tx_queues(host.get(), 1);
  rtnl_link_set_num_rx_queues(host.get(), 1);
  rtnl_link_set_num_tx_queues(peer.get(), 1);
  rtnl_link_set_num_rx_queues(peer.get(), 1);
  if (v.mtu > 0) {
    rtnl_link_set_mtu(host.get(), static_cast<unsigned>(v.mtu));
    rtnl_link_set_mtu(peer.get(), static_cast<unsigned>(v.mtu));
  }
  if (v.peer_mac) {
    NlAddrPtr mac(nl_addr_build(AF_LLC, v.peer_mac->data(), v.peer_mac->size()));
    if (!mac) return Fail(ErrorCode::kInternal, what + ": out of memory");
    rtnl_link_set_addr(peer.get(), mac.get());
  }
  impl_->Clear();
  // One RTM_NEWLINK: both ends, the peer's namespace, the master and IFF_UP.
  int err = rtnl_link_add(impl_->sk, host.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err < 0) return Unexpected(impl_->NlFail(err, what));
  err = impl_->SetHairpin(v.host_name);
  if (err < 0) {
    Status st = Unexpected(impl_->NlFail(err, "set hairpin mode").Wrap(what));
    (void)Delete(v.host_name);
    return st;
  }
  return Ok();
}

Result<std::vector<BridgeInfo>> Links::Bridges() {
  nl_cache* raw = nullptr;
  int err = 0;
  // A dump interrupted by links coming and going meanwhile is retried.
  for (int attempt = 0; attempt < 5; ++attempt) {
    impl_->Clear();
    err = rtnl_link_alloc_cache(impl_->sk, AF_UNSPEC, &raw);
    if (err != -NLE_DUMP_INTR) break;
  }
  if (err < 0) return Unexpected(impl_->NlFail(err, "list links"));
  std::unique_ptr<nl_cache, CacheFree> cache(raw);
  std::vector<BridgeInfo> out;
  for (nl_object* o = nl_cache_get_first(raw); o; o = nl_cache_get_next(o)) {
    auto* link = reinterpret_cast<rtnl_link*>(o);
    const char* type = rtnl_link_get_type(link);
    if (!type || std::strcmp(type, "bridge") != 0) continue;
    const char* name = rtnl_link_get_name(link);
    const char* alias = rtnl_link_get_ifalias(link);
    out.push_back({name ? name : "", alias ? alias : ""});
  }
  return out;
}

Status Links::Delete(const std::string& name) {
  LinkPtr link(rtnl_link_alloc());
  if (!link)
    return Fail(ErrorCode::kInternal, StrCat("delete link ", Quote(name), ": out of memory"));
  rtnl_link_set_name(link.get(), name.c_str());
  impl_->Clear();
  int err = rtnl_link_delete(impl_->sk, link.get());
  if (err < 0 && !IsMissing(err))
    return Unexpected(impl_->NlFail(err, StrCat("delete link ", Quote(name))));
  return Ok();
}

Status Links::ConfigureInterface(const std::string& name, const std::vector<Prefix>& addresses,
                                 std::optional<IpAddress> gateway4,
                                 std::optional<IpAddress> gateway6) {
  std::string what = StrCat("configure ", Quote(name));
  BERTH_ASSIGN_OR_RETURN_CTX(int ifindex, impl_->IfIndex(name), what);
  // Up first: each address and its connected route are then usable as soon as added.
  int err = impl_->SetUp(name, 0);
  if (err < 0) return Unexpected(impl_->NlFail(err, "bring it up").Wrap(what));
  for (const Prefix& p : addresses) BERTH_TRY_CTX(impl_->AddAddress(ifindex, p, name), what);
  err = impl_->SetUp("lo", 0);
  if (err < 0) return Unexpected(impl_->NlFail(err, "bring `lo` up").Wrap(what));
  // After the addresses: the kernel accepts a gateway only inside a connected prefix.
  if (gateway4) BERTH_TRY_CTX(impl_->AddDefaultRoute(ifindex, *gateway4, name), what);
  if (gateway6) BERTH_TRY_CTX(impl_->AddDefaultRoute(ifindex, *gateway6, name), what);
  return Ok();
}

std::array<uint8_t, 6> MacForAddress(const IpAddress& v4) {
  return {0x02, 0x42, v4.bytes[0], v4.bytes[1], v4.bytes[2], v4.bytes[3]};
}

}  // namespace berth::net
