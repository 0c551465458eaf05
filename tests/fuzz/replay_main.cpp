// A main for the fuzz targets in the ordinary build: feeds every file under the given
// folders (the seed corpus and every crash's regression input, tests/fuzz/corpus/<target>)
// to LLVMFuzzerTestOneInput once, so each past crash is a unit test with any compiler.
//
//   fuzz_replay_option_values tests/fuzz/corpus/option_values
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(argv[i])) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::cout << "replay " << entry.path().string() << '\n' << std::flush;
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++replayed;
    }
  }
  std::cout << replayed << " inputs replayed without a crash\n";
  return replayed > 0 ? 0 : 1;  // an empty corpus means a wrong path, not a pass
}
