//! `LocalStore`: a directory as a bucket.
