// pearl/core/record.hpp — what may be a key or a value, how it is hashed and serialised.
//
// A *record type* is one of
//   - an arithmetic type (int32_t, uint64_t, double, ...),
//   - pearl::FixedString<N>,
//   - a trivially copyable struct (keys additionally need unique object representations,
//     i.e. no padding, and `operator<=>`/`operator==`, usually `= default`),
//   - std::pair / std::tuple of record types (serialised element by element).
// Records have a fixed serialised size, so pairs travel and spill as flat bytes and no
// job ever handles `char*` plus a length.
//
//   struct CityDisease { std::uint32_t city; pearl::FixedString<8> disease;
//                        auto operator<=>(const CityDisease&) const = default; };
//   static_assert(pearl::KeyRecord<CityDisease>);
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include "pearl/core/fixed_string.hpp"

namespace pearl {

// ---- serialisation -----------------------------------------------------------------

namespace detail {
template <class>
inline constexpr bool kNotARecord = false;
}  // namespace detail

/// Every type the engine cannot carry ends here, directly or as a member of a pair or
/// tuple, with this one message as the first error (instead of pages of template errors).
template <class T, class = void>
struct Codec {
  static_assert(detail::kNotARecord<T>,
                "pearl: keys and values must be record types: arithmetic types, pearl::FixedString<N>, "
                "trivially copyable structs, or std::pair/std::tuple of these. std::string, std::vector and "
                "other types owning memory cannot travel as bytes: use pearl::FixedString<N> "
                "(pearl/core/fixed_string.hpp says how to choose N)");
  static constexpr std::size_t size = 0;
  static void write(std::byte*, const T&) noexcept {}
  static T read(const std::byte*) { return T{}; }
};

/// Plain bytes: arithmetic types, FixedString, trivially copyable structs.
template <class T>
struct Codec<T, std::enable_if_t<std::is_trivially_copyable_v<T>>> {
  static constexpr std::size_t size = sizeof(T);
  static void write(std::byte* out, const T& v) noexcept { std::memcpy(out, &v, sizeof(T)); }
  static T read(const std::byte* in) noexcept {
    T v;
    std::memcpy(&v, in, sizeof(T));
    return v;
  }
};

namespace detail {
template <class Tuple, std::size_t... I>
constexpr std::size_t tuple_size_bytes(std::index_sequence<I...>) {
  return (std::size_t{0} + ... + Codec<std::tuple_element_t<I, Tuple>>::size);
}
}  // namespace detail

/// std::tuple and std::pair, which libstdc++ does not make trivially copyable.
template <class T>
struct Codec<T, std::enable_if_t<!std::is_trivially_copyable_v<T> &&
                                 (std::tuple_size<T>::value >= 0)>> {
  using Indices = std::make_index_sequence<std::tuple_size_v<T>>;
  static constexpr std::size_t size = detail::tuple_size_bytes<T>(Indices{});

  static void write(std::byte* out, const T& v) noexcept {
    std::apply(
        [&](const auto&... e) {
          ((Codec<std::decay_t<decltype(e)>>::write(out, e),
            out += Codec<std::decay_t<decltype(e)>>::size),
           ...);
        },
        v);
  }
  static T read(const std::byte* in) noexcept {
    T v;
    std::apply(
        [&](auto&... e) {
          ((e = Codec<std::decay_t<decltype(e)>>::read(in), in += Codec<std::decay_t<decltype(e)>>::size),
           ...);
        },
        v);
    return v;
  }
};

template <class T>
concept Record = std::is_default_constructible_v<T> && std::is_copy_assignable_v<T> &&
                 requires { Codec<T>::size; };

// ---- hashing -----------------------------------------------------------------------

/// Finaliser of MurmurHash3: a fast, well-mixed 64-bit hash of a 64-bit word.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

inline std::uint64_t hash_bytes(const void* data, std::size_t n) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = mix64(h ^ w);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = mix64(h ^ w);
  }
  return h;
}

namespace detail {
template <class>
inline constexpr bool kNotAKey = false;
/// Whether Codec takes T at all; if not, Codec's static_assert has already said why.
template <class T>
inline constexpr bool kHasCodec = std::is_trivially_copyable_v<T> || requires { std::tuple_size<T>::value; };
}  // namespace detail

/// Record types that cannot be keys end here (floating point, and what Codec refuses).
template <class T, class = void>
struct KeyHash {
  static_assert(detail::kNotAKey<T> || !detail::kHasCodec<T>,
                "pearl: keys must be integers, enums, pearl::FixedString<N>, padding-free trivially copyable "
                "structs with operator<=> and ==, or std::pair/std::tuple of these (no floating point: NaN and "
                "-0.0 break grouping; no std::string: use pearl::FixedString<N>)");
  std::uint64_t operator()(const T&) const noexcept { return 0; }
};

template <class T>
struct KeyHash<T, std::enable_if_t<std::is_integral_v<T> || std::is_enum_v<T>>> {
  std::uint64_t operator()(T v) const noexcept { return mix64(static_cast<std::uint64_t>(v)); }
};

/// Structs and FixedString: hash the bytes, which is sound only without padding.
template <class T>
struct KeyHash<T, std::enable_if_t<std::is_class_v<T> && std::is_trivially_copyable_v<T>>> {
  static_assert(std::has_unique_object_representations_v<T>,
                "a struct used as a key must have no padding bytes (reorder or widen its members)");
  std::uint64_t operator()(const T& v) const noexcept { return hash_bytes(&v, sizeof(T)); }
};

template <class T>
struct KeyHash<T, std::enable_if_t<!std::is_trivially_copyable_v<T> &&
                                   (std::tuple_size<T>::value >= 0)>> {
  std::uint64_t operator()(const T& v) const noexcept {
    return std::apply(
        [](const auto&... e) {
          std::uint64_t h = 0x51ed270b7a1f3a3bULL;
          ((h = mix64(h ^ KeyHash<std::decay_t<decltype(e)>>{}(e))), ...);
          return h;
        },
        v);
  }
};

/// A key: a record that can be hashed, compared for equality and ordered. Floating
/// point keys are not allowed (NaN breaks ordering and -0.0 == 0.0 breaks hashing).
template <class K>
concept KeyRecord = Record<K> && std::totally_ordered<K> && requires(const K& k) {
  { KeyHash<K>{}(k) } -> std::convertible_to<std::uint64_t>;
};

/// Which of `parts` ranks owns a key with this hash. Uses the high 32 bits, so that
/// the low bits stay uniformly distributed for hash-table indexing on every rank.
constexpr int partition_of(std::uint64_t hash, int parts) noexcept {
  return static_cast<int>(((hash >> 32) * static_cast<std::uint64_t>(parts)) >> 32);
}

}  // namespace pearl
