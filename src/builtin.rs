//! The shipped rules and their test cases, embedded at build time from `policies/`.

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
