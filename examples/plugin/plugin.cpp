// The plugin's entry point: its name and the plugin ABI version it was built for.
#include "pearl/job.hpp"

PEARL_PLUGIN("example", "example out-of-tree jobs: example.histogram");
