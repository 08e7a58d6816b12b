//! Evidence for the `Pass` entries of the syscall table: the structures and
//! constants those syscalls exchange have the same layout and values on
//! arm64 as on x86-64, so the host kernel can read and write guest memory
//! directly.
//!
//! The arm64 figures were measured with `aarch64-linux-gnu-gcc` (glibc 2.36
//! and the AArch64 UAPI headers in `/usr/aarch64-linux-gnu/include`) and run
//! under `qemu-aarch64`; each test compares them with the `libc` crate's
//! x86-64 definitions. The one structure that differs, `epoll_event`, is
//! converted in [`super::poll`]; `struct stat` in [`super::stat`];
//! `semid64_ds` in [`super::ipc`].

#[cfg(test)]
mod tests {
    use core::mem::offset_of;

    #[test]
    fn flock_statfs_rlimit_rusage() {
        assert_eq!(size_of::<libc::flock>(), 32);
        assert_eq!(offset_of!(libc::flock, l_start), 8);
        assert_eq!(offset_of!(libc::flock, l_len), 16);
        assert_eq!(offset_of!(libc::flock, l_pid), 24);
        assert_eq!(size_of::<libc::statfs>(), 120);
        assert_eq!(offset_of!(libc::statfs, f_blocks), 16);
        assert_eq!(offset_of!(libc::statfs, f_fsid), 56);
        assert_eq!(offset_of!(libc::statfs, f_namelen), 64);
        // f_flags (80 on arm64) follows f_frsize; libc calls it f_spare[0].
        assert_eq!(offset_of!(libc::statfs, f_frsize), 72);
        assert_eq!(size_of::<libc::rlimit>(), 16);
        assert_eq!(size_of::<libc::rusage>(), 144);
        assert_eq!(offset_of!(libc::rusage, ru_maxrss), 32);
        assert_eq!(offset_of!(libc::rusage, ru_nivcsw), 136);
        assert_eq!(size_of::<libc::tms>(), 32);
        assert_eq!(size_of::<libc::sysinfo>(), 112);
        assert_eq!(offset_of!(libc::sysinfo, procs), 80);
        assert_eq!(offset_of!(libc::sysinfo, totalhigh), 88);
        assert_eq!(offset_of!(libc::sysinfo, mem_unit), 104);
        assert_eq!(size_of::<libc::statx>(), 256);
        assert_eq!(offset_of!(libc::statx, stx_mode), 28);
        assert_eq!(offset_of!(libc::statx, stx_ino), 32);
        assert_eq!(offset_of!(libc::statx, stx_atime), 64);
        assert_eq!(offset_of!(libc::statx, stx_mnt_id), 144);
    }

    #[test]
    fn siginfo_for_waitid_and_signalfd() {
        // arm64 siginfo_t: 128 bytes; SIGCHLD fields as below.
        assert_eq!(size_of::<libc::siginfo_t>(), 128);
        // Plant each SIGCHLD field at its arm64 offset and read it back
        // through libc's x86-64 accessors.
        let mut raw = [0u8; 128];
        raw[8..12].copy_from_slice(&1i32.to_le_bytes()); // si_code
        raw[16..20].copy_from_slice(&1234i32.to_le_bytes()); // si_pid
        raw[20..24].copy_from_slice(&56u32.to_le_bytes()); // si_uid
        raw[24..28].copy_from_slice(&7i32.to_le_bytes()); // si_status
        raw[32..40].copy_from_slice(&88i64.to_le_bytes()); // si_utime
        raw[40..48].copy_from_slice(&99i64.to_le_bytes()); // si_stime
                                                           // SAFETY: siginfo_t is 128 bytes of plain data.
        let si: libc::siginfo_t = unsafe { core::mem::transmute(raw) };
        assert_eq!(si.si_code, 1);
        // SAFETY: reading the SIGCHLD union member of plain data.
        unsafe {
            assert_eq!(si.si_pid(), 1234);
            assert_eq!(si.si_uid(), 56);
            assert_eq!(si.si_status(), 7);
            assert_eq!(si.si_utime(), 88);
            assert_eq!(si.si_stime(), 99);
        }
        assert_eq!(size_of::<libc::signalfd_siginfo>(), 128);
        assert_eq!(offset_of!(libc::signalfd_siginfo, ssi_pid), 12);
        assert_eq!(offset_of!(libc::signalfd_siginfo, ssi_addr), 72);
        assert_eq!(size_of::<libc::sigevent>(), 64);
        assert_eq!(offset_of!(libc::sigevent, sigev_notify), 12);
    }

    #[test]
    fn sockets_and_io_vectors() {
        assert_eq!(size_of::<libc::msghdr>(), 56);
        assert_eq!(offset_of!(libc::msghdr, msg_control), 32);
        assert_eq!(offset_of!(libc::msghdr, msg_controllen), 40);
        assert_eq!(offset_of!(libc::msghdr, msg_flags), 48);
        assert_eq!(size_of::<libc::cmsghdr>(), 16);
        assert_eq!(offset_of!(libc::cmsghdr, cmsg_level), 8);
        assert_eq!(offset_of!(libc::cmsghdr, cmsg_type), 12);
        assert_eq!(size_of::<libc::mmsghdr>(), 64);
        assert_eq!(offset_of!(libc::mmsghdr, msg_len), 56);
        assert_eq!(size_of::<libc::sockaddr_in6>(), 28);
        assert_eq!(size_of::<libc::sockaddr_un>(), 110);
        assert_eq!(size_of::<libc::timeval>(), 16);
        assert_eq!(size_of::<libc::pollfd>(), 8);
        assert_eq!(size_of::<libc::iovec>(), 16);
        assert_eq!(size_of::<libc::itimerspec>(), 32);
        assert_eq!(size_of::<libc::inotify_event>(), 16);
        assert_eq!(size_of::<libc::sched_param>(), 4);
    }

    #[test]
    fn ipc_time_and_queues() {
        assert_eq!(size_of::<libc::shmid_ds>(), 112);
        assert_eq!(offset_of!(libc::shmid_ds, shm_segsz), 48);
        assert_eq!(offset_of!(libc::shmid_ds, shm_ctime), 72);
        assert_eq!(offset_of!(libc::shmid_ds, shm_nattch), 88);
        assert_eq!(size_of::<libc::msqid_ds>(), 120);
        assert_eq!(offset_of!(libc::msqid_ds, msg_ctime), 64);
        assert_eq!(offset_of!(libc::msqid_ds, msg_qnum), 80);
        assert_eq!(offset_of!(libc::msqid_ds, msg_lrpid), 100);
        assert_eq!(size_of::<libc::ipc_perm>(), 48);
        assert_eq!(offset_of!(libc::ipc_perm, mode), 20);
        assert_eq!(size_of::<libc::timex>(), 208);
        assert_eq!(offset_of!(libc::timex, freq), 16);
        assert_eq!(offset_of!(libc::timex, time), 72);
        assert_eq!(offset_of!(libc::timex, tai), 160);
        assert_eq!(size_of::<libc::mq_attr>(), 64);
    }

    #[test]
    fn constants_agree() {
        // Values printed by the arm64 build.
        let arm64 = [
            (libc::SO_RCVTIMEO, 20),
            (libc::SO_SNDTIMEO, 21),
            (libc::SO_REUSEADDR, 2),
            (libc::SO_PEERCRED, 17),
            (libc::SO_PASSCRED, 16),
            (libc::SCM_RIGHTS, 1),
            (libc::SOL_SOCKET, 1),
            (libc::SOCK_NONBLOCK, 0o4000),
            (libc::SOCK_CLOEXEC, 0o2000000),
            (libc::EPOLLET, 0x8000_0000u32 as i32),
            (i32::from(libc::POLLWRNORM), 0x100),
            (i32::from(libc::POLLRDHUP), 0x2000),
            (libc::F_GETLK, 5),
            (libc::F_SETLK, 6),
            (libc::F_SETOWN, 8),
            (libc::F_OFD_GETLK, 36),
            (libc::RLIMIT_NOFILE as i32, 7),
            (libc::RLIMIT_NPROC as i32, 6),
            (libc::RLIMIT_AS as i32, 9),
            (libc::RLIMIT_MEMLOCK as i32, 8),
            (libc::SIGBUS, 7),
            (libc::SIGUSR1, 10),
            (libc::SIGCHLD, 17),
            (libc::SIGSTKFLT, 16),
            (libc::SIGSYS, 31),
            (libc::SIGPWR, 30),
            (libc::SIGURG, 23),
            (libc::EFD_NONBLOCK, 0o4000),
            (libc::TFD_CLOEXEC, 0o2000000),
            (libc::IN_NONBLOCK, 0o4000),
            (libc::MADV_DONTNEED, 4),
            (libc::MADV_FREE, 8),
            (libc::MCL_FUTURE, 2),
            (libc::MS_SYNC, 4),
        ];
        for (host, guest) in arm64 {
            assert_eq!(host, guest);
        }
    }
}
