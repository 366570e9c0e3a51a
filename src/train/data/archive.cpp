#include "train/data/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "host/progress.h"

namespace agilenn::data {
namespace fs = std::filesystem;
namespace {

class FileLock {
 public:
  explicit FileLock(const fs::path& path) : fd_(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw std::runtime_error(path.string() + ": cannot create lock file: " + std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) throw std::runtime_error(path.string() + ": cannot lock: " + std::strerror(errno));
    }
  }
  ~FileLock() { ::close(fd_); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

bool safe_relative(const fs::path& p) {
  if (p.empty() || p.is_absolute()) return false;
  for (const fs::path& part : p) {
    if (part == "..") return false;
  }
  return true;
}

void extract_one(const fs::path& archive_path, const fs::path& dest, const std::string& top_folder,
                 Progress& progress) {
  std::unique_ptr<archive, int (*)(archive*)> in(archive_read_new(), archive_read_free);
  // Only what the data sets ship as (.tar.gz): less parsing of untrusted bytes, and a static
  // libarchive then needs zlib alone (the GPU build, docs/building.md).
  archive_read_support_filter_gzip(in.get());
  archive_read_support_format_tar(in.get());
  if (archive_read_open_filename(in.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw std::runtime_error(archive_path.string() + ": cannot open archive: " + archive_error_string(in.get()));
  }
  archive_entry* entry = nullptr;
  std::vector<char> buf(1 << 16);
  int64_t last_position = 0;
  for (;;) {
    const int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) {
      throw std::runtime_error(archive_path.string() + ": corrupt archive: " + archive_error_string(in.get()));
    }
    const fs::path name = archive_entry_pathname(entry);
    if (!safe_relative(name) || *name.begin() != top_folder) {
      throw std::runtime_error(archive_path.string() + ": entry '" + name.string() +
                               "' is outside the expected folder '" + top_folder + "/'");
    }
    const fs::path out_path = dest / name;
    const mode_t type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) {
      fs::create_directories(out_path);
    } else if (type == AE_IFREG) {
      fs::create_directories(out_path.parent_path());
      std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
      if (!out) throw std::runtime_error(out_path.string() + ": cannot create: " + std::strerror(errno));
      for (;;) {
        const la_ssize_t n = archive_read_data(in.get(), buf.data(), buf.size());
        if (n < 0) {
          throw std::runtime_error(archive_path.string() + ": corrupt data in '" + name.string() +
                                   "': " + archive_error_string(in.get()));
        }
        if (n == 0) break;
        out.write(buf.data(), n);
      }
      if (!out) throw std::runtime_error(out_path.string() + ": write failed: " + std::strerror(errno));
    }  // links and devices are skipped: the data sets have none
    const int64_t position = archive_filter_bytes(in.get(), -1);
    progress.add(static_cast<uint64_t>(position - last_position));
    last_position = position;
  }
}

}  // namespace

fs::path extract_archives_once(const std::vector<fs::path>& archives, const fs::path& cache_dir,
                               const std::string& top_folder) {
  const fs::path final_dir = cache_dir / top_folder;
  if (fs::is_directory(final_dir)) return final_dir;
  fs::create_directories(cache_dir);
  FileLock lock(cache_dir / (".lock-" + top_folder));
  if (fs::is_directory(final_dir)) return final_dir;  // another process finished meanwhile

  uint64_t total = 0;
  for (const fs::path& a : archives) total += fs::file_size(a);
  const fs::path partial = cache_dir / (".partial-" + top_folder + "-" + std::to_string(::getpid()));
  fs::remove_all(partial);
  try {
    Progress progress("extract " + top_folder + " into " + cache_dir.string(), total, "B");
    for (const fs::path& a : archives) extract_one(a, partial, top_folder, progress);
    progress.finish();
    fs::rename(partial / top_folder, final_dir);
    fs::remove_all(partial);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(partial, ec);
    throw;
  }
  return final_dir;
}

}  // namespace agilenn::data
