//! The Cranelift target: x86-64 Linux, System V, from an explicit triple
//! and explicit CPU features, never from the build host.
//!
//! Invariant: output runs on any x86-64-v2 CPU (SSE4.2, POPCNT) unless the
//! user asks for v3.

use std::str::FromStr;
use std::sync::Arc;

use cranelift_codegen::isa::{self, TargetFrontendConfig, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use target_lexicon::Triple;

/// The CPU level translated code may assume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuLevel {
    /// x86-64-v2: SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT, CMPXCHG16B.
    V2,
    /// x86-64-v3: v2 plus AVX, AVX2, BMI1, BMI2, FMA, LZCNT.
    V3,
    /// x86-64-v2 plus AVX and FMA: the clones that v2 output carries of
    /// its functions that use fused multiply-add, entered only where
    /// `CpuState::host_fma` says the host has both (`backend::compile`).
    V2Fma,
}

/// Builds the target ISA.
pub fn build(level: CpuLevel, verify: bool) -> Result<Arc<dyn TargetIsa>, String> {
    let mut flags = settings::builder();
    let set = |b: &mut settings::Builder, k: &str, v: &str| {
        b.set(k, v)
            .map_err(|e| format!("cranelift setting {k}={v}: {e}"))
    };
    set(&mut flags, "opt_level", "speed")?;
    set(&mut flags, "is_pic", "true")?;
    set(
        &mut flags,
        "enable_verifier",
        if verify { "true" } else { "false" },
    )?;
    set(&mut flags, "preserve_frame_pointers", "true")?;
    let triple = Triple::from_str("x86_64-unknown-linux-gnu").map_err(|e| e.to_string())?;
    let mut b = isa::lookup(triple).map_err(|e| e.to_string())?;
    let mut features = vec![
        "has_sse3",
        "has_ssse3",
        "has_sse41",
        "has_sse42",
        "has_popcnt",
        "has_cmpxchg16b",
    ];
    if level == CpuLevel::V2Fma {
        features.extend(["has_avx", "has_fma"]);
    }
    if level == CpuLevel::V3 {
        features.extend([
            "has_avx",
            "has_avx2",
            "has_bmi1",
            "has_bmi2",
            "has_fma",
            "has_lzcnt",
        ]);
    }
    for f in features {
        b.enable(f)
            .map_err(|e| format!("cranelift feature {f}: {e}"))?;
    }
    b.finish(settings::Flags::new(flags))
        .map_err(|e| e.to_string())
}

/// The frontend configuration matching [`build`]'s target.
pub fn frontend_config() -> TargetFrontendConfig {
    TargetFrontendConfig {
        default_call_conv: isa::CallConv::SystemV,
        pointer_width: target_lexicon::PointerWidth::U64,
        page_size_align_log2: 12,
    }
}
