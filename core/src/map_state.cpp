// The out-of-line parts of pearl/core/map_state.hpp and detail/pass_state.hpp: file I/O
// and the bytes of outboxes, which do not depend on a job's key and value types.
#include "pearl/core/map_state.hpp"

#include <fstream>
#include <iterator>

#include "pearl/core/detail/pass_state.hpp"
#include "pearl/core/error.hpp"

namespace pearl {

void MapStateWriter::put_bytes(std::span<const std::byte> bytes) {
  put<std::uint64_t>(bytes.size());
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
}

std::span<const std::byte> MapStateReader::get_bytes() {
  const auto n = get<std::uint64_t>();
  return {take(n), n};
}

void MapStateReader::damaged(const std::string& what) const {
  throw InputError("--resume: the checkpoint file " + from_.string() + " is damaged (" + what +
                   "); run without --resume to start over");
}

const std::byte* MapStateReader::take(std::size_t n) {
  if (bytes_.size() - at_ < n) damaged("it ends early");
  const std::byte* p = bytes_.data() + at_;
  at_ += n;
  return p;
}

namespace detail {

void write_state_file(const std::filesystem::path& path, const std::vector<std::byte>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) throw Error("checkpoint: cannot write " + path.string());
}

std::vector<std::byte> read_state_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("--resume: the checkpoint file " + path.string() + " is missing; run without --resume to start over");
  std::vector<char> text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(text.size());
  std::memcpy(bytes.data(), text.data(), text.size());
  return bytes;
}

void put_outbox(MapStateWriter& w, const Outbox& outbox) {
  for (int d = 0; d < outbox.ranks(); ++d) w.put_bytes(outbox.to(d));
}

void get_outbox(MapStateReader& r, Outbox& outbox) {
  for (int d = 0; d < outbox.ranks(); ++d) {
    const auto bytes = r.get_bytes();
    outbox.to(d).assign(bytes.begin(), bytes.end());
  }
}

}  // namespace detail
}  // namespace pearl
