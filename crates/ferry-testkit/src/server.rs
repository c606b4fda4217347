//! Local server processes (being written).
