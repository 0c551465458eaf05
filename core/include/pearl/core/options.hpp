// pearl/core/options.hpp — parsing the list-valued job options of the contract.
//
// Lists are comma-separated ("--by region,disease"; "--methods C1,C3"). Jobs parse them
// here so that every job trims, rejects and names bad items the same way:
//
//   const auto by = pearl::parse_choices("by", by_, {"region", "disease", "sex", "year"});
//   const auto bounds = pearl::parse_numbers("bounds", bounds_, 4);
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace pearl {

/// The items of a comma-separated list, blanks around them trimmed, empty items dropped.
std::vector<std::string> split_list(const std::string& text);

/// The items of `--option`'s list, each one of `allowed`, in the order given. Throws
/// InputError naming the option and the allowed values for an unknown or repeated item,
/// or for an empty list when `allow_empty` is false.
std::vector<std::string> parse_choices(const std::string& option, const std::string& text,
                                       const std::vector<std::string>& allowed, bool allow_empty = false);

/// `--option`'s list as numbers; exactly `count` of them unless `count` is 0. Throws
/// InputError naming the option and the item that is not a finite number.
std::vector<double> parse_numbers(const std::string& option, const std::string& text, std::size_t count = 0);

}  // namespace pearl
