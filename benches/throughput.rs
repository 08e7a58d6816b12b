//! Criterion benchmarks of translator throughput: guest instructions per
//! second through discovery + lifting, and through Cranelift compilation
//! (lowering, codegen, object emission), on the committed fixture
//! `fixtures/bin/basic` and, when `VMXLATE_BENCH_ELF` names an AArch64 ELF
//! (e.g. target/thirdparty/busybox/busybox-arm64), on that program too.
//!
//! Run with `cargo bench -p vmxlate --bench throughput`; not part of the
//! test command. Linking is left out: it is the system linker's time.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vmxlate::backend::{self, CpuLevel, Options};
use vmxlate::driver;

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut v = vec![root.join("fixtures/bin/basic")];
    if let Some(extra) = std::env::var_os("VMXLATE_BENCH_ELF") {
        v.push(PathBuf::from(extra));
    }
    v
}

fn throughput(c: &mut Criterion) {
    let opts = Options {
        cpu: CpuLevel::V2,
        strict_abi: false,
        verify: false,
        jit: true,
    };
    for path in inputs() {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let image = match driver::load(&path) {
            Ok(image) => image,
            Err(e) => panic!("cannot load {}: {e}", path.display()),
        };
        let (funcs, stats) = driver::lift_all(&image);
        let insts: usize = stats.iter().map(|s| s.insts).sum();

        let mut group = c.benchmark_group(format!("translate/{name}"));
        group.throughput(Throughput::Elements(insts as u64));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(20));
        group.bench_function("lift", |b| b.iter(|| driver::lift_all(&image)));
        // One compile of a static glibc program takes seconds.
        group.measurement_time(Duration::from_secs(60));
        group.bench_function("compile", |b| {
            b.iter(|| backend::compile(&image, &funcs, opts).expect("compile"))
        });
        group.finish();
    }
}

criterion_group!(benches, throughput);
criterion_main!(benches);
