//! S3 backend (being written).
