// column_probe.hpp (internal) — the columns a job reads when its options choose them
// (`table.aggregate --by region`), checked before anything is queued.
//
// A job declaring no columns for an input names them only in run(), from its options.
// probe_columns runs the job over inputs that validate each table and columns the job
// opens against every shard and then yield no rows. A missing or unconvertible column is
// the InputError `pearl run` would give, and so is an InputError the job throws before
// its first read (it has seen only options and stored columns, as in a real run). What
// the job does with no rows is not the user's mistake: any later failure is ignored.
#pragma once

#include "pearl/cluster/shard_inputs.hpp"
#include "pearl/core/engine.hpp"
#include "pearl/core/job.hpp"

namespace pearl::cluster {

/// Collective. Throws the InputError of the first table or column the job would refuse.
void probe_columns(Job& job, const JobSpec& spec, ShardInputs& inputs, Engine& engine);

}  // namespace pearl::cluster
