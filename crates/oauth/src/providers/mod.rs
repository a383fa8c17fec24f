//! Per-provider knowledge: presets and the quirks the generic flow must tolerate.

pub mod atlassian;
