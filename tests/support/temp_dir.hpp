// A private temporary directory for one test, removed with everything in it when it goes away.
#pragma once

#include <string>
#include <string_view>

namespace ikigai::support {

// Creates a fresh directory with mkdtemp under $TMPDIR (default /tmp). Movable, not copyable; the
// destructor removes the directory recursively and never throws.
class TempDir {
 public:
  // `prefix` starts the directory's name: "<prefix>XXXXXX". Throws std::runtime_error on failure.
  explicit TempDir(std::string_view prefix = "ikigai-test-");
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Absolute path without a trailing slash; empty after being moved from.
  [[nodiscard]] const std::string& Path() const { return path_; }
  // Path() + "/" + name.
  [[nodiscard]] std::string File(std::string_view name) const;

 private:
  void Remove() noexcept;

  std::string path_;
};

}  // namespace ikigai::support
