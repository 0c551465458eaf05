// io/src/pandas_layouts.hpp — pandas' HDF5 layouts that pearl refuses (not installed):
// both pack several columns into one array whose names live only in pickled Python
// attributes. Each check throws an InputError that says how to rewrite the file.
//
//   detail::refuse_pandas_fixed(group.id(), links, info);   // df.to_hdf(...) default format
//   detail::refuse_values_block(member_name, info, object);  // format="table" without data_columns
#pragma once

#include <hdf5.h>

#include <string>
#include <vector>

#include "pearl/io/table_info.hpp"

namespace pearl::io::detail {

/// Throws when the group at info.path, with links `names`, was written by pandas in its
/// default format="fixed" (blockN_values arrays, names in blockN_items).
void refuse_pandas_fixed(hid_t group, const std::vector<std::string>& names, const TableInfo& info);

/// Throws when compound member `member` of dataset `object` is one of pandas'
/// values_block_N (format="table" written without data_columns=True).
void refuse_values_block(const std::string& member, const TableInfo& info, const std::string& object);

}  // namespace pearl::io::detail
