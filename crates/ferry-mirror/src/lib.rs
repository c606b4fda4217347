//! Mirror engine (being written).
