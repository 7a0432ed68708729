//! The OAuth tests' view of the one harness: the app with its
//! authorization server and the sign-in flow's helpers.

pub use crate::helpers::oauth::*;
pub use crate::helpers::{Options, TestApp, attach, spawn_app_with};
