//! `fleet package`: a GameLift build zip from an already built server binary.
//!
//! The zip holds, at its root: the binary (mode 755, under `--name`), an `install.sh`
//! that GameLift runs on each instance after unpacking the build (it makes the binary
//! executable), `build-info.json` (name, SHA-256, size) and, with `--config`, the
//! server's config file under its own file name. The binary's SHA-256 is printed so the
//! upload can be matched to what was built.
//!
//! Building the binary for Amazon Linux 2023 (x86_64, glibc 2.34) is not done here: build
//! it first, for example `cargo build --release -p server --target
//! x86_64-unknown-linux-musl` (static), or `--target x86_64-unknown-linux-gnu` on a
//! machine whose glibc is 2.34 or older, and pass its path. A binary that is not an
//! x86_64 Linux ELF executable is refused.
//!
//! What it is not: a build tool or a general archiver (see [`super::zip`]).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use super::zip::{Entry, write_zip};

/// `fleet package` flags.
#[derive(Debug, clap::Args)]
pub struct PackageArgs {
    /// The server binary, already built for x86_64 Linux (see the module docs).
    #[arg(long)]
    pub binary: PathBuf,
    /// Name of the binary inside the build (its launch path is `/local/game/NAME`).
    #[arg(long, default_value = "server")]
    pub name: String,
    /// A config file for the server, put next to it in the build.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Where to write the zip.
    #[arg(long, default_value = "build.zip")]
    pub out: PathBuf,
}

/// What [`package`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packaged {
    /// The binary's SHA-256, lower-case hex.
    pub sha256: String,
    /// The zip's size in bytes.
    pub zip_size: u64,
    /// The names inside the zip, in order.
    pub entries: Vec<String>,
}

/// Refuses what cannot run on an Amazon Linux 2023 x86_64 instance: not ELF, not 64-bit
/// little-endian, not x86_64, not an executable.
fn check_elf(binary: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let what = binary.display();
    if bytes.len() < 20 || &bytes[..4] != b"\x7fELF" {
        bail!(
            "{what} is not an ELF binary; build the server for x86_64-unknown-linux-gnu or -musl"
        );
    }
    if bytes[4] != 2 || bytes[5] != 1 {
        bail!("{what} is not a 64-bit little-endian ELF binary");
    }
    let e_type = u16::from_le_bytes([bytes[16], bytes[17]]);
    let machine = u16::from_le_bytes([bytes[18], bytes[19]]);
    if machine != 0x3e {
        bail!(
            "{what} is not built for x86_64 (ELF machine {machine:#x}); GameLift's Amazon Linux 2023 instances here are x86_64"
        );
    }
    // 2 = executable, 3 = position-independent executable (or a shared object).
    if e_type != 2 && e_type != 3 {
        bail!("{what} is not an executable (ELF type {e_type})");
    }
    Ok(())
}

const INSTALL_SH: &str = "#!/bin/sh\n\
# Run by GameLift on each instance after it unpacks the build into /local/game.\n\
set -eu\n\
cd \"$(dirname \"$0\")\"\n\
chmod 755 ./@NAME@\n";

/// Writes the build zip for `args`.
pub fn package(args: &PackageArgs) -> anyhow::Result<Packaged> {
    if args.name.is_empty() || args.name.contains(['/', '\\']) || args.name == "install.sh" {
        bail!(
            "--name {:?} must be a plain file name other than install.sh",
            args.name
        );
    }
    let binary = std::fs::read(&args.binary)
        .with_context(|| format!("reading the server binary {}", args.binary.display()))?;
    check_elf(&args.binary, &binary)?;
    let sha256 = hex::encode(Sha256::digest(&binary));
    let config = match &args.config {
        Some(path) => {
            let data = std::fs::read(path)
                .with_context(|| format!("reading the config file {}", path.display()))?;
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .with_context(|| format!("{} has no usable file name", path.display()))?
                .to_owned();
            if name == args.name || name == "install.sh" || name == "build-info.json" {
                bail!("the config file's name {name:?} clashes with a file of the build");
            }
            Some((name, data))
        }
        None => None,
    };
    let install = INSTALL_SH.replace("@NAME@", &args.name);
    let info = serde_json::json!({
        "binary": args.name,
        "sha256": sha256,
        "size": binary.len(),
        "config": config.as_ref().map(|(n, _)| n.clone()),
    })
    .to_string();
    let mut entries = vec![
        Entry {
            name: &args.name,
            mode: 0o755,
            data: &binary,
        },
        Entry {
            name: "install.sh",
            mode: 0o755,
            data: install.as_bytes(),
        },
        Entry {
            name: "build-info.json",
            mode: 0o644,
            data: info.as_bytes(),
        },
    ];
    if let Some((name, data)) = &config {
        entries.push(Entry {
            name,
            mode: 0o644,
            data,
        });
    }
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let mut out = std::io::BufWriter::new(file);
    write_zip(&mut out, &entries).with_context(|| format!("writing {}", args.out.display()))?;
    std::io::Write::flush(&mut out)?;
    let zip_size = std::fs::metadata(&args.out)?.len();
    Ok(Packaged {
        sha256,
        zip_size,
        entries: entries.iter().map(|e| e.name.to_owned()).collect(),
    })
}

/// Runs `fleet package`: writes the zip and prints the binary's SHA-256 and the zip.
pub fn run(args: &PackageArgs) -> anyhow::Result<()> {
    let p = package(args)?;
    println!("sha256 {}  {}", p.sha256, args.binary.display());
    println!(
        "package {} ({} bytes): {}",
        args.out.display(),
        p.zip_size,
        p.entries.join(", ")
    );
    Ok(())
}
