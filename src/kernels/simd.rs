//! Runtime selection of AVX2 code for the native kernels' per-plane loops.
//!
//! The crate is compiled for the baseline x86-64 (SSE2), so its loops vectorise four
//! lanes wide. [`avx2_or_baseline!`] compiles a function body twice, once with AVX2
//! enabled, and picks the AVX2 copy at run time when the CPU has it. The arithmetic
//! is the same in both copies (no fused multiply-add), so results do not depend on
//! the CPU.

/// Defines `fn $name(args)` whose body runs as AVX2 code on CPUs that support it.
///
/// Everything the body calls must be `#[inline(always)]` (closures it defines and
/// calls directly are inlined by the optimiser) to be compiled for AVX2 too.
macro_rules! avx2_or_baseline {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body

            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: `avx2` only needs the AVX2 instructions, which the
                    // running CPU has just reported.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}

pub(crate) use avx2_or_baseline;

/// `sum(f(a[i], b[i]))` in eight independent lanes, so that it vectorises (a single
/// accumulator per loop: with two, LLVM pairs them into one vector instead).
#[inline(always)]
pub(crate) fn lane_sum(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(&x, &y)| f(x, y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            lanes[k] += f(x[k], y[k]);
        }
    }
    lanes.iter().sum::<f32>() + tail
}
