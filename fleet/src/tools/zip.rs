//! A minimal zip writer: stored (uncompressed) entries with CRC-32, Unix permissions, a
//! central directory and the end record. Enough for a GameLift build, which is a zip of a
//! few files extracted on the instance.
//!
//! What it is not: a general zip library. No compression, no Zip64 (each entry and the
//! whole archive must stay under 4 GiB), no reading, no directories (entries may have
//! `/` in their names; extractors create the folders).

use std::io::{self, Write};

/// The CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) that zip uses.
pub fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        t
    });
    !data.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

/// One file to put in the archive.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// Path inside the archive (`/`-separated, relative).
    pub name: &'a str,
    /// Unix permission bits, e.g. `0o755` for an executable.
    pub mode: u32,
    /// The file's bytes.
    pub data: &'a [u8],
}

/// 1980-01-01 00:00 in MS-DOS form: fixed, so the same inputs give the same zip.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;

fn too_big(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{what} is 4 GiB or more; this zip writer has no Zip64"),
    )
}

fn u32_of(n: usize, what: &str) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| too_big(what))
}

/// Writes `entries` as a stored zip to `out`.
pub fn write_zip(out: &mut impl Write, entries: &[Entry<'_>]) -> io::Result<()> {
    let mut central = Vec::new();
    let mut offset: usize = 0;
    for e in entries {
        let name = e.name.as_bytes();
        let name_len = u16::try_from(name.len()).map_err(|_| too_big("an entry name"))?;
        let size = u32_of(e.data.len(), e.name)?;
        let crc = crc32(e.data);
        let local_offset = u32_of(offset, "the archive")?;
        let mut local = Vec::with_capacity(30 + name.len());
        local.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        local.extend_from_slice(&20u16.to_le_bytes()); // version needed: 2.0
        local.extend_from_slice(&0u16.to_le_bytes()); // flags
        local.extend_from_slice(&0u16.to_le_bytes()); // method: stored
        local.extend_from_slice(&DOS_TIME.to_le_bytes());
        local.extend_from_slice(&DOS_DATE.to_le_bytes());
        local.extend_from_slice(&crc.to_le_bytes());
        local.extend_from_slice(&size.to_le_bytes()); // compressed
        local.extend_from_slice(&size.to_le_bytes()); // uncompressed
        local.extend_from_slice(&name_len.to_le_bytes());
        local.extend_from_slice(&0u16.to_le_bytes()); // extra length
        local.extend_from_slice(name);
        out.write_all(&local)?;
        out.write_all(e.data)?;
        offset += local.len() + e.data.len();

        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by: Unix, 2.0
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&DOS_TIME.to_le_bytes());
        central.extend_from_slice(&DOS_DATE.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&name_len.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        let external = (0o100_000 | (e.mode & 0o7777)) << 16; // regular file + mode
        central.extend_from_slice(&external.to_le_bytes());
        central.extend_from_slice(&local_offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let count = u16::try_from(entries.len()).map_err(|_| too_big("the entry count"))?;
    let cd_offset = u32_of(offset, "the archive")?;
    let cd_size = u32_of(central.len(), "the central directory")?;
    out.write_all(&central)?;
    let mut end = Vec::with_capacity(22);
    end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes()); // this disk
    end.extend_from_slice(&0u16.to_le_bytes()); // central directory's disk
    end.extend_from_slice(&count.to_le_bytes());
    end.extend_from_slice(&count.to_le_bytes());
    end.extend_from_slice(&cd_size.to_le_bytes());
    end.extend_from_slice(&cd_offset.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes()); // comment length
    out.write_all(&end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn a_zip_has_local_headers_a_central_directory_and_an_end_record() {
        let mut zip = Vec::new();
        write_zip(
            &mut zip,
            &[
                Entry {
                    name: "server",
                    mode: 0o755,
                    data: b"\x7fELF",
                },
                Entry {
                    name: "install.sh",
                    mode: 0o644,
                    data: b"#!/bin/sh\n",
                },
            ],
        )
        .unwrap();
        assert!(zip.starts_with(b"PK\x03\x04"));
        let end = &zip[zip.len() - 22..];
        assert_eq!(&end[..4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([end[10], end[11]]), 2, "two entries");
        let cd_size = u32::from_le_bytes(end[12..16].try_into().unwrap()) as usize;
        let cd_offset = u32::from_le_bytes(end[16..20].try_into().unwrap()) as usize;
        assert_eq!(cd_offset + cd_size, zip.len() - 22);
        assert_eq!(&zip[cd_offset..cd_offset + 4], b"PK\x01\x02");
        // The first entry's data follows its 30-byte header and 6-byte name.
        assert_eq!(&zip[36..40], b"\x7fELF");
        let crc = u32::from_le_bytes(zip[14..18].try_into().unwrap());
        assert_eq!(crc, crc32(b"\x7fELF"));
    }
}
