// The gather protocol: rank 0 receives a table's rows from every rank in global row
// order, in rounds bounded in bytes, and hands each round to a sink (the serial HDF5
// and the CSV writers write them).
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "output_writer_detail.hpp"
#include "pearl/core/agreement.hpp"

namespace pearl::io::detail {

namespace {

/// Rows [first, first + rows) of one window of a part (PartWindows), `bytes` on the wire.
struct Piece {
  std::uint64_t first = 0, rows = 0, bytes = 0;
  std::size_t window = 0;
};

/// Appends the pieces of one window of a part: a piece never spans two windows.
void split_pieces(const OutputTable& part, std::size_t window, const std::vector<std::size_t>& cols,
                  std::size_t budget, std::vector<Piece>& pieces) {
  const std::uint64_t n = part.rows();
  if (n == 0 || cols.empty()) return;
  std::uint64_t fixed = 0;
  std::vector<const std::vector<std::string>*> strings;
  for (std::size_t c : cols) {
    if (part.specs()[c].type == DType::str) {
      strings.push_back(&std::get<std::vector<std::string>>(part.data(c)));
      fixed += sizeof(std::uint32_t);
    } else {
      fixed += element_size(part.specs()[c].type);
    }
  }
  if (strings.empty()) {
    const std::uint64_t per = std::max<std::uint64_t>(1, budget / fixed);
    for (std::uint64_t r = 0; r < n; r += per) {
      const std::uint64_t k = std::min(per, n - r);
      pieces.push_back({r, k, k * fixed, window});
    }
    return;
  }
  Piece cur{0, 0, 0, window};
  for (std::uint64_t r = 0; r < n; ++r) {
    std::uint64_t b = fixed;
    for (const auto* s : strings) b += (*s)[r].size();
    if (cur.rows > 0 && cur.bytes + b > budget) {
      pieces.push_back(cur);
      cur = {r, 0, 0, window};
    }
    cur.rows += 1;
    cur.bytes += b;
  }
  pieces.push_back(cur);
}

void encode(const OutputTable& part, const std::vector<std::size_t>& cols, const Piece& p, std::vector<std::byte>& out) {
  for (std::size_t c : cols) {
    std::visit(
        [&](const auto& v) {
          using T = typename std::decay_t<decltype(v)>::value_type;
          if constexpr (std::is_same_v<T, std::string>) {
            for (std::uint64_t r = p.first; r < p.first + p.rows; ++r) {
              const auto len = static_cast<std::uint32_t>(v[r].size());
              const std::size_t at = out.size();
              out.resize(at + sizeof len + len);
              std::memcpy(out.data() + at, &len, sizeof len);
              if (len > 0) std::memcpy(out.data() + at + sizeof len, v[r].data(), len);
            }
          } else {
            const std::size_t at = out.size();
            out.resize(at + p.rows * sizeof(T));
            if (p.rows > 0) std::memcpy(out.data() + at, v.data() + p.first, p.rows * sizeof(T));
          }
        },
        part.data(c));
  }
}

void decode_append(const std::byte*& at, std::uint64_t rows, ColumnData& dst) {
  std::visit(
      [&](auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_same_v<T, std::string>) {
          for (std::uint64_t r = 0; r < rows; ++r) {
            std::uint32_t len = 0;
            std::memcpy(&len, at, sizeof len);
            at += sizeof len;
            v.emplace_back(reinterpret_cast<const char*>(at), len);
            at += len;
          }
        } else {
          const std::size_t old = v.size();
          v.resize(old + rows);
          if (rows > 0) std::memcpy(v.data() + old, at, rows * sizeof(T));
          at += rows * sizeof(T);
        }
      },
      dst);
}

void append_local(const ColumnData& src, std::uint64_t first, std::uint64_t rows, ColumnData& dst) {
  std::visit(
      [&](auto& v) {
        using V = std::decay_t<decltype(v)>;
        const auto& s = std::get<V>(src);
        v.insert(v.end(), s.begin() + static_cast<std::ptrdiff_t>(first),
                 s.begin() + static_cast<std::ptrdiff_t>(first + rows));
      },
      dst);
}

}  // namespace

void gather_rounds(Communicator& comm, const OutputTable& part, const std::vector<std::size_t>& cols,
                   const Plan& plan, std::size_t table, std::size_t round_bytes, const RoundSink& sink) {
  const std::size_t budget = std::max<std::size_t>(round_bytes, 1);
  const auto ranks = static_cast<std::size_t>(comm.size());
  const bool root = comm.rank() == 0;

  // Everyone's pieces (rows, bytes), so every rank derives the same schedule.
  // A part that spilled (pearl/core/spilled_rows.hpp) is read window by window, here to
  // split it and again, in the same order, as its pieces are sent.
  PartWindows windows(part);
  std::vector<Piece> mine;
  agreed(comm, [&] {
    for (std::size_t w = 0; w < windows.count(); ++w) split_pieces(windows.load(w), w, cols, budget, mine);
  });
  std::vector<std::uint64_t> flat;
  for (const auto& p : mine) flat.insert(flat.end(), {p.rows, p.bytes});
  std::vector<std::vector<std::byte>> all;
  comm.allgather(as_bytes_of(flat), all);

  struct Entry {
    std::size_t rank, piece;
    std::uint64_t first, rows;  // rows of that rank's part (over all its windows)
  };
  std::vector<std::vector<Entry>> rounds;
  {
    std::uint64_t in_round = 0;
    for (std::size_t r = 0; r < ranks; ++r) {
      const auto theirs = to_u64s(all[r]);
      std::uint64_t first = 0;
      for (std::size_t i = 0; i + 1 < theirs.size(); i += 2) {
        const std::uint64_t rows = theirs[i], bytes = theirs[i + 1];
        if (rounds.empty() || (in_round > 0 && in_round + bytes > budget)) {
          rounds.emplace_back();
          in_round = 0;
        }
        rounds.back().push_back({r, i / 2, first, rows});
        in_round += bytes;
        first += rows;
      }
    }
  }
  all.clear();

  std::exception_ptr failure;
  std::vector<std::byte> send, recv;
  std::vector<std::size_t> send_counts(ranks, 0), recv_counts;
  // Round buffers live across rounds: fresh large allocations are fresh pages, and
  // faulting them in costs more than the copy itself.
  std::vector<ColumnData> data;
  if (root) {
    for (std::size_t c : cols) data.push_back(make_column(part.specs()[c].type));
  }
  for (const auto& round : rounds) {
    agreed(comm, [&] {
      if (failure) std::rethrow_exception(failure);
      send.clear();
      for (const auto& e : round) {
        if (e.rank == static_cast<std::size_t>(comm.rank()) && !root) {
          encode(windows.load(mine[e.piece].window), cols, mine[e.piece], send);
        }
      }
    });
    send_counts[0] = send.size();
    comm.alltoallv(send, send_counts, recv, recv_counts);
    if (!root) continue;
    try {
      const std::uint64_t first = plan.offset(table, static_cast<int>(round.front().rank)) + round.front().first;
      std::uint64_t rows = 0;
      for (const auto& e : round) rows += e.rows;
      std::vector<const ColumnData*> views;
      const bool local_only = std::all_of(round.begin(), round.end(), [&](const Entry& e) {
        return e.rank == 0 && mine[e.piece].window == mine[round.front().piece].window;
      });
      if (local_only) {
        const Piece& head = mine[round.front().piece];
        const OutputTable& window = windows.load(head.window);
        for (std::size_t c : cols) views.push_back(&window.data(c));
        sink(first, rows, views, static_cast<std::size_t>(head.first));
      } else {
        for (auto& d : data) std::visit([](auto& v) { v.clear(); }, d);
        const std::byte* at = recv.data();
        for (const auto& e : round) {
          if (e.rank == 0) {
            const Piece& piece = mine[e.piece];
            const OutputTable& window = windows.load(piece.window);
            for (std::size_t k = 0; k < cols.size(); ++k) append_local(window.data(cols[k]), piece.first, piece.rows, data[k]);
          } else {
            for (auto& d : data) decode_append(at, e.rows, d);
          }
        }
        for (const auto& d : data) views.push_back(&d);
        sink(first, rows, views, 0);
      }
    } catch (...) {
      failure = std::current_exception();
    }
  }
  agree_on_failure(comm, failure);
}

}  // namespace pearl::io::detail
