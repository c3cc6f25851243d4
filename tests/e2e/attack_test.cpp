// The raw-socket attack suite (issue 15): being written.
