//! The UDP socket under the endpoint: dual-stack (`IPV6_V6ONLY` off) for `[::]`, with a
//! fallback to IPv4 when the host has no IPv6.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};

use socket2::{Domain, Protocol, Socket, Type};

/// Binds `addr`: an unspecified IPv6 address binds dual-stack, and falls back to
/// `0.0.0.0` on the same port if IPv6 is unavailable; any other address binds as is.
pub fn bind_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
    if addr.is_ipv6() && addr.ip().is_unspecified() {
        match bind_dual_stack(addr) {
            Ok(socket) => return Ok(socket),
            Err(error) => {
                tracing::warn!(%error, "no dual-stack IPv6 socket; falling back to IPv4");
                return plain(SocketAddr::from((Ipv4Addr::UNSPECIFIED, addr.port())));
            }
        }
    }
    plain(addr)
}

/// An IPv6 socket that also takes IPv4 (mapped) traffic.
pub fn bind_dual_stack(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_only_v6(false)?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// Asks for a receive buffer (`SO_RCVBUF`) of `bytes` and returns the size the kernel
/// reports. Linux caps the request at `net.core.rmem_max` and reports twice what it
/// grants (the other half is its bookkeeping); a cap is logged as a warning.
pub fn set_recv_buffer(socket: &UdpSocket, bytes: usize) -> io::Result<usize> {
    let socket = socket2::SockRef::from(socket);
    socket.set_recv_buffer_size(bytes)?;
    let effective = socket.recv_buffer_size()?;
    let granted_in_full = if cfg!(target_os = "linux") {
        bytes.saturating_mul(2)
    } else {
        bytes
    };
    if effective < granted_in_full {
        tracing::warn!(
            requested = bytes,
            effective,
            "UDP receive buffer capped by the kernel: raise net.core.rmem_max"
        );
    } else {
        tracing::info!(requested = bytes, effective, "UDP receive buffer");
    }
    Ok(effective)
}

fn plain(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    /// The request takes effect (under Debian's default `rmem_max` of 208 KiB, so it
    /// holds on a host nobody tuned), and the size reported is the kernel's.
    #[test]
    fn the_receive_buffer_is_raised_to_what_was_asked() {
        let socket = bind_udp(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("bind");
        let before = socket2::SockRef::from(&socket)
            .recv_buffer_size()
            .expect("SO_RCVBUF");
        let asked = 150_000;
        let effective = set_recv_buffer(&socket, asked).expect("set");
        assert!(effective >= asked, "{effective} < {asked}");
        assert_ne!(effective, before, "the default was kept");
        assert_eq!(
            socket2::SockRef::from(&socket)
                .recv_buffer_size()
                .expect("SO_RCVBUF"),
            effective
        );
    }

    #[test]
    fn unspecified_v6_takes_ipv4_traffic_or_falls_back() {
        let socket = bind_udp(SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0))).expect("bind");
        let port = socket.local_addr().expect("addr").port();
        let sender = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("sender");
        sender
            .send_to(b"x", (Ipv4Addr::LOCALHOST, port))
            .expect("send");
        socket
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
        let mut buf = [0u8; 4];
        let (n, _) = socket.recv_from(&mut buf).expect("IPv4 reaches the socket");
        assert_eq!(&buf[..n], b"x");
    }
}
