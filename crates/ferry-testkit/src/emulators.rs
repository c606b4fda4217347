//! Emulator discovery (being written).
