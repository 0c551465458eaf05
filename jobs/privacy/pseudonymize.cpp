// privacy.pseudonymize — replaces identifier columns by keyed pseudonyms (HMAC-SHA256 or
// HMAC-SM3 under a secret key file); every other column passes through unchanged, rows
// stay in input order.
//
//   pearl run privacy.pseudonymize --input 'table=data/persons-*.h5:/persons'
//       --columns person_id,employer_id --key-file /secure/pearl.key --output persons-p.h5
//
// Each rank reads its contiguous share of the rows and writes it as its part of the
// output table; parts are written in rank order, so the output's rows are the input's
// rows in shard order. The pseudonym depends only on the key, the algorithm and the
// identifier's text, never on the rank or shard, so joins on it work across files and
// runs with the same key. docs/security.md describes the guarantees.
#include <charconv>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "keyed_hash.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs {
namespace {

using privacy::Algorithm;
using privacy::KeyedHash;
using privacy::SecretBytes;

// Pseudonyms are the first 16 bytes (128 bits) of the HMAC in lower-case hex: collisions
// among even 10^12 distinct ids have probability about 10^-15, at half the storage of the
// full 64 characters, and a consumer holding the key reproduces them as a prefix.
constexpr std::size_t kPseudonymHexChars = 32;

// An identifier's text, hashed: integers by their canonical decimal form (so 42 stored
// as int32, int64 or the string "42" gets one pseudonym), strings by their bytes.
template <class T>
std::string_view id_text(const T& value, char (&buf)[24]) {
  if constexpr (std::is_same_v<T, std::string>) {
    return value;
  } else {
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    (void)ec;  // 24 characters hold any 64-bit integer
    return {buf, static_cast<std::size_t>(end - buf)};
  }
}

/// Every rank reads and checks the key file itself (it lies on the shared file system,
/// as the inputs do), so the key never travels between ranks; a refusal on any rank is
/// agreed and reported once.
SecretBytes load_key(Communicator& comm, const std::string& key_file) {
  SecretBytes key;
  agreed(comm, [&] { key = privacy::read_key_file(key_file); });
  return key;
}

class Pseudonymize final : public Job {
 public:
  [[nodiscard]] std::string name() const override { return "privacy.pseudonymize"; }
  [[nodiscard]] std::string summary() const override {
    return "replace identifier columns by keyed pseudonyms (HMAC-SHA256 or HMAC-SM3)";
  }

  void declare(JobSpec& spec) override {
    spec.input("table", "any table; the --columns are integer or string identifiers");
    spec.required("columns", &columns_, "identifier columns to replace, comma-separated (integer or string columns)");
    spec.required("key-file", &key_file_,
                  "file holding the secret key (mode 0600 or stricter, at least 16 bytes; trailing newlines ignored)");
    spec.option("algorithm", &algorithm_, "sha256", "sha256 (HMAC-SHA256) or sm3 (HMAC-SM3)");
    spec.output("table",
                "the input rows in input order, every column as stored except the --columns, which hold "
                "32-character lower-case hex pseudonyms (first 16 bytes of the HMAC)");
  }

  void run(JobContext& ctx) override {
    const Algorithm algorithm = privacy::parse_algorithm(algorithm_);
    std::vector<ColumnSpec> columns = ctx.input_columns("table");
    std::vector<bool> is_id(columns.size(), false);
    const auto ids = split_list(columns_);
    if (ids.empty()) throw InputError("option --columns needs at least one column");
    for (std::size_t k = 0; k < ids.size(); ++k) {
      std::size_t i = 0;
      while (i < columns.size() && columns[i].name != ids[k]) ++i;
      if (i == columns.size()) {
        throw InputError("option --columns: " + ctx.input_location("table") + " has no column '" + ids[k] + "'");
      }
      if (is_id[i]) throw InputError("option --columns: '" + ids[k] + "' is given twice");
      if (dtype_is_float(columns[i].type)) {
        throw InputError("option --columns: column '" + ids[k] + "' of " + ctx.input_location("table") + " is " +
                         std::string(dtype_name(columns[i].type)) + "; identifiers must be integer or string columns");
      }
      is_id[i] = true;
    }

    const SecretBytes key = load_key(ctx.comm(), key_file_);
    KeyedHash hash(algorithm, key);

    std::vector<ColumnSpec> out_specs = columns;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (is_id[i]) out_specs[i].type = DType::str;
    }
    OutputTable out("table", out_specs);
    // The output is as large as the input: past half the tables' share (the engine is
    // idle), rows wait on scratch for the writer, which reads them back in rounds.
    const EngineOptions& engine = ctx.engine().options();
    out.spill_past(ctx.memory().lease("pseudonymize output rows", MemoryShare::output_table), engine.scratch);
    TableInput input = ctx.input("table", columns);
    std::uint64_t next_row = 0;
    bool first = true;
    while (auto batch = input.next()) {
      // A rank's share is contiguous and read in order; the output's order relies on it.
      if (!first && batch->first_row() != next_row) throw Error(name() + ": input batches out of order");
      first = false;
      next_row = batch->first_row() + batch->rows();
      for (std::size_t i = 0; i < columns.size(); ++i) {
        if (is_id[i]) append_pseudonyms(hash, batch->data(i), out.column<std::string>(i));
        else append_values(batch->data(i), out.data(i));
      }
      input.recycle(std::move(*batch));
      out.spill_if_full();
    }
    ctx.engine().progress(name() + ": " + std::to_string(out.total_rows()) + " rows, " + std::to_string(ids.size()) +
                          " identifier columns pseudonymised with " + privacy::algorithm_label(algorithm) + " (rank 0)");
    ctx.write(std::move(out));
  }

 private:
  static void append_pseudonyms(KeyedHash& hash, const ColumnData& in, std::vector<std::string>& out) {
    std::visit(
        [&](const auto& values) {
          char buf[24];
          out.reserve(out.size() + values.size());
          for (const auto& v : values) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_floating_point_v<T>) {
              throw Error("privacy.pseudonymize: a floating-point identifier column");  // refused in run()
            } else {
              out.push_back(hash.hex(id_text(v, buf), kPseudonymHexChars));
            }
          }
        },
        in);
  }

  static void append_values(const ColumnData& in, ColumnData& out) {
    std::visit(
        [&](auto& dst) {
          const auto& src = std::get<std::decay_t<decltype(dst)>>(in);
          dst.insert(dst.end(), src.begin(), src.end());
        },
        out);
  }

  std::string columns_;
  std::string key_file_;
  std::string algorithm_ = "sha256";
};

}  // namespace
PEARL_REGISTER_JOB(Pseudonymize);
}  // namespace pearl::jobs
