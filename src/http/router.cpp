// Segment-by-segment route matching; literal segments win over parameters.
#include "http/router.hpp"

#include <algorithm>
#include <stdexcept>

#include "core/ids.hpp"

namespace ikigai::http {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    out.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

bool IsParam(std::string_view seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

// Matches a request path against a template; fills params. Empty segments never match a param.
bool MatchPath(const Route& r, const std::vector<std::string_view>& segs,
               std::map<std::string, std::string>* params) {
  if (segs.size() != r.segments.size()) return false;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const std::string& t = r.segments[i];
    if (IsParam(t)) {
      if (segs[i].empty()) return false;
      if (params != nullptr) (*params)[t.substr(1, t.size() - 2)] = std::string(segs[i]);
    } else if (t != segs[i]) {
      return false;
    }
  }
  return true;
}

// Literal segments outrank parameters, so /me/sessions beats /me/{x}.
int Specificity(const Route& r) {
  int score = 0;
  for (const auto& s : r.segments) score = score * 2 + (IsParam(s) ? 0 : 1);
  return score;
}

}  // namespace

void RouteMetrics::Observe(int status, std::chrono::microseconds elapsed) {
  if (status >= 100 && status < 600) by_status[static_cast<std::size_t>(status - 100)].fetch_add(1, std::memory_order_relaxed);
  const double seconds = static_cast<double>(elapsed.count()) / 1e6;
  std::size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  buckets[i].fetch_add(1, std::memory_order_relaxed);
  count.fetch_add(1, std::memory_order_relaxed);
  sum_micros.fetch_add(static_cast<std::uint64_t>(elapsed.count()), std::memory_order_relaxed);
}

Route& Router::Add(Route route) {
  if (route.path.empty() || route.path.front() != '/') throw std::invalid_argument("route must start with /");
  for (auto s : Split(route.path)) route.segments.emplace_back(s);
  std::vector<std::string> id_params;
  for (const auto& seg : route.segments) {
    if (!IsParam(seg)) continue;
    std::string name = seg.substr(1, seg.size() - 2);
    if (name == "id" || name.ends_with("_id")) id_params.push_back(std::move(name));
  }
  if (!id_params.empty() && route.handler) {
    // The handler runs after authentication and the role check, so an anonymous caller still
    // gets 401 and a non-admin 403, as for any id; but an id that none of ours can be is 404
    // before the handler reads the body or asks the database anything.
    route.handler = [inner = std::move(route.handler), id_params = std::move(id_params)](Request& r) {
      for (const auto& name : id_params) {
        if (!core::IsIdText(r.Param(name))) return ErrorReply({core::ErrorCode::kNotFound}, r);
      }
      return inner(r);
    };
  }
  for (const auto& r : routes_) {
    if (r->method == route.method && r->path == route.path) {
      throw std::invalid_argument("duplicate route " + route.method + " " + route.path);
    }
  }
  routes_.push_back(std::make_unique<Route>(std::move(route)));
  Route& added = *routes_.back();
  std::stable_sort(routes_.begin(), routes_.end(), [](const auto& a, const auto& b) {
    return Specificity(*a) > Specificity(*b);
  });
  return added;
}

Match Router::Find(std::string_view method, std::string_view path) const {
  // HEAD is answered like GET wherever GET is allowed (RFC 9110 9.3.2).
  const std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
  Match m;
  if (path.empty() || path.front() != '/') return m;
  const auto segs = Split(path);
  std::vector<std::string> allowed;
  const Route* best_path = nullptr;
  for (const auto& r : routes_) {
    if (!MatchPath(*r, segs, nullptr)) continue;
    // The most specific template that matches decides which path this is.
    if (best_path != nullptr && r->path != best_path->path) continue;
    best_path = r.get();
    allowed.push_back(r->method);
    if (r->method == wanted && m.route == nullptr) {
      m.kind = Match::Kind::kFound;
      m.route = r.get();
      MatchPath(*r, segs, &m.params);
    }
  }
  if (best_path == nullptr) return m;
  allowed.push_back("OPTIONS");
  if (std::find(allowed.begin(), allowed.end(), "GET") != allowed.end()) allowed.push_back("HEAD");
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  for (const auto& a : allowed) m.allow += (m.allow.empty() ? "" : ", ") + a;
  if (m.kind != Match::Kind::kFound) m.kind = Match::Kind::kMethodNotAllowed;
  return m;
}

}  // namespace ikigai::http
