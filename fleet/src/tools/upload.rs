//! `fleet upload`: CreateBuild (Amazon Linux 2023, server SDK 5.x), the zip to the S3
//! location GameLift returns with the credentials it returns (multipart for large
//! files, a percentage on stderr), then DescribeBuild until READY within a deadline.
//!
//! Endpoints and credentials come from `aws-config` ([`crate::aws`]): point
//! `AWS_ENDPOINT_URL_GAMELIFT` at `fleet local` and `AWS_ENDPOINT_URL_S3` (or
//! `AWS_ENDPOINT_URL`) at a local S3 to try it without AWS.
//!
//! What it is not: resumable. A failed multipart upload is aborted and the build stays
//! INITIALIZED; run the command again (it creates a new build).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use aws_sdk_gamelift::types::{BuildStatus, OperatingSystem};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use tokio::io::AsyncReadExt;

/// S3's smallest part (except the last) for a multipart upload.
pub const MIN_PART_MIB: u64 = 5;

/// `fleet upload` flags.
#[derive(Debug, clap::Args)]
pub struct UploadArgs {
    /// The build zip (`fleet package`'s output).
    #[arg(long, default_value = "build.zip")]
    pub zip: PathBuf,
    /// The build's name.
    #[arg(long)]
    pub name: String,
    /// The build's version label.
    #[arg(long = "build-version")]
    pub build_version: String,
    /// The GameLift server SDK version the server is built with (5.x).
    #[arg(long, default_value = "5.4.0")]
    pub server_sdk_version: String,
    /// Part size in MiB; files larger than one part go up as a multipart upload.
    #[arg(long, default_value_t = 8)]
    pub part_size_mib: u64,
    /// Seconds to wait for the build to become READY.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Seconds between DescribeBuild calls while waiting.
    #[arg(long, default_value_t = 1)]
    pub poll_interval: u64,
}

fn check_sdk_version(v: &str) -> anyhow::Result<()> {
    let major = v.split('.').next().unwrap_or("");
    if major != "5" || v.split('.').any(|p| p.parse::<u32>().is_err()) {
        bail!("--server-sdk-version {v:?} must be a 5.x version such as 5.4.0");
    }
    Ok(())
}

/// Runs `fleet upload`.
pub async fn run(args: &UploadArgs) -> anyhow::Result<()> {
    check_sdk_version(&args.server_sdk_version)?;
    if args.part_size_mib < MIN_PART_MIB {
        bail!("--part-size-mib must be at least {MIN_PART_MIB} (S3's minimum part size)");
    }
    let size = tokio::fs::metadata(&args.zip)
        .await
        .with_context(|| format!("reading {}", args.zip.display()))?
        .len();
    let mut magic = [0u8; 4];
    tokio::fs::File::open(&args.zip)
        .await?
        .read_exact(&mut magic)
        .await
        .with_context(|| format!("{} is too short to be a zip", args.zip.display()))?;
    if &magic != b"PK\x03\x04" {
        bail!(
            "{} is not a zip (make one with `fleet package`)",
            args.zip.display()
        );
    }

    let config = crate::aws::sdk_config().await;
    let gamelift = crate::aws::gamelift(&config);
    let created = gamelift
        .create_build()
        .name(&args.name)
        .version(&args.build_version)
        .operating_system(OperatingSystem::AmazonLinux2023)
        .server_sdk_version(&args.server_sdk_version)
        .send()
        .await
        .context("CreateBuild")?;
    let build_id = created
        .build_value()
        .and_then(|b| b.build_id())
        .context("CreateBuild returned no build id")?
        .to_owned();
    let location = created
        .storage_location()
        .context("CreateBuild returned no StorageLocation")?;
    let (bucket, key) = match (location.bucket(), location.key()) {
        (Some(b), Some(k)) => (b.to_owned(), k.to_owned()),
        _ => bail!("CreateBuild's StorageLocation lacks a bucket or key"),
    };
    let creds = created
        .upload_credentials()
        .context("CreateBuild returned no UploadCredentials")?;
    let credentials = aws_sdk_s3::config::Credentials::new(
        creds.access_key_id().unwrap_or_default(),
        creds.secret_access_key().unwrap_or_default(),
        creds.session_token().map(str::to_owned),
        None,
        "gamelift-upload-credentials",
    );
    println!("build-id {build_id}");
    eprintln!(
        "uploading {} ({size} bytes) to s3://{bucket}/{key}",
        args.zip.display()
    );
    let s3 = crate::aws::s3_with(&config, credentials);
    let part_size = args.part_size_mib * 1024 * 1024;
    if size > part_size {
        multipart(&s3, &bucket, &key, args, size, part_size).await?;
    } else {
        let body = ByteStream::from_path(&args.zip)
            .await
            .with_context(|| format!("reading {}", args.zip.display()))?;
        progress(0, size);
        s3.put_object()
            .bucket(&bucket)
            .key(&key)
            .body(body)
            .send()
            .await
            .context("PutObject of the build zip")?;
        progress(size, size);
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout);
    loop {
        let build = gamelift
            .describe_build()
            .build_id(&build_id)
            .send()
            .await
            .context("DescribeBuild")?;
        let status = build.build_value().and_then(|b| b.status()).cloned();
        match status {
            Some(BuildStatus::Ready) => break,
            Some(BuildStatus::Failed) => {
                bail!("build {build_id} FAILED: GameLift rejected the upload")
            }
            _ => {}
        }
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "build {build_id} is still {} after {} s",
                status.as_ref().map_or("unknown", BuildStatus::as_str),
                args.timeout
            );
        }
        tokio::time::sleep(Duration::from_secs(args.poll_interval.max(1))).await;
    }
    println!("build {build_id} READY");
    Ok(())
}

/// One progress line on stderr.
fn progress(done: u64, total: u64) {
    let pct = (done * 100).checked_div(total).unwrap_or(100);
    eprintln!("upload: {pct:>3}% ({done}/{total} bytes)");
}

async fn multipart(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    args: &UploadArgs,
    size: u64,
    part_size: u64,
) -> anyhow::Result<()> {
    let started = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .context("CreateMultipartUpload")?;
    let upload_id = started
        .upload_id()
        .context("CreateMultipartUpload returned no upload id")?
        .to_owned();
    let result = upload_parts(s3, bucket, key, &upload_id, args, size, part_size).await;
    match result {
        Ok(parts) => {
            s3.complete_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .context("CompleteMultipartUpload")?;
            Ok(())
        }
        Err(e) => {
            let _ = s3
                .abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
            Err(e)
        }
    }
}

async fn upload_parts(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    args: &UploadArgs,
    size: u64,
    part_size: u64,
) -> anyhow::Result<Vec<CompletedPart>> {
    let mut file = tokio::fs::File::open(&args.zip).await?;
    let mut parts = Vec::new();
    let mut done = 0u64;
    let mut number = 1i32;
    progress(0, size);
    while done < size {
        let len = part_size.min(size - done);
        let mut buf = vec![0u8; usize::try_from(len)?];
        file.read_exact(&mut buf)
            .await
            .with_context(|| format!("reading {}", args.zip.display()))?;
        let out = s3
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(buf))
            .send()
            .await
            .with_context(|| format!("UploadPart {number}"))?;
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag().map(str::to_owned))
                .build(),
        );
        done += len;
        number += 1;
        progress(done, size);
    }
    Ok(parts)
}
