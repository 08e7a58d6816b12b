//! The AArch64 Linux syscall table: every number with its name and, where
//! the runtime supports it, its argument count and handler.
//!
//! Numbers are the asm-generic ones arm64 uses (with `__ARCH_WANT_RENAMEAT`,
//! `__ARCH_WANT_NEW_STAT`, `__ARCH_WANT_SET_GET_RLIMIT`), taken from the
//! AArch64 UAPI headers, plus the calls added since (451..=462). They are
//! *guest* numbers; `libc::SYS_*` appear only as host targets of
//! [`Handler::Pass`].
//!
//! Invariants: [`SYSCALLS`] is sorted by number, numbers and names are
//! unique (checked by the tests); a `Pass` entry is used only where the
//! AArch64 and x86-64 kernels take identical arguments and structures.

use libc::c_long;

use super::{exec, fs, info, io, ipc, mm, poll, process, signal, Call};
use crate::host::SysResult;

/// How a supported syscall is carried out.
#[derive(Clone, Copy, Debug)]
pub enum Handler {
    /// Forward the six argument registers unchanged to this host syscall.
    Pass(c_long),
    /// Emulate in the runtime.
    Emulate(fn(&mut Call<'_>) -> SysResult),
    /// Emulate; never returns (logged before it runs).
    NoReturn(fn(&mut Call<'_>) -> !),
    /// Deliberately fail with this errno (not reported as unsupported).
    Fail(i32),
}

/// A supported syscall.
#[derive(Clone, Copy, Debug)]
pub struct Impl {
    /// Number of arguments (for logging).
    pub argc: usize,
    /// What to do.
    pub handler: Handler,
}

/// One AArch64 syscall.
#[derive(Clone, Copy, Debug)]
pub struct Syscall {
    /// The AArch64 syscall number (x8).
    pub nr: u64,
    /// The kernel's name for it (`__NR_<name>`).
    pub name: &'static str,
    /// How the runtime handles it, or `None` if unsupported.
    pub imp: Option<Impl>,
}

/// Finds syscall `nr`.
pub fn find(nr: u64) -> Option<&'static Syscall> {
    SYSCALLS
        .binary_search_by_key(&nr, |s| s.nr)
        .ok()
        .map(|i| &SYSCALLS[i])
}

/// x86-64 numbers of host syscalls the `libc` crate does not name yet
/// (`arch/x86/entry/syscalls/syscall_64.tbl`).
mod host_nr {
    use libc::c_long;
    pub const IO_PGETEVENTS: c_long = 333;
    pub const CACHESTAT: c_long = 451;
    pub const STATMOUNT: c_long = 457;
    pub const LISTMOUNT: c_long = 458;
    pub const LSM_GET_SELF_ATTR: c_long = 459;
    pub const LSM_SET_SELF_ATTR: c_long = 460;
    pub const LSM_LIST_MODULES: c_long = 461;
}

macro_rules! syscall_table {
    ($($nr:literal $name:ident $(($argc:literal) => $kind:ident($target:path))?;)*) => {
        /// Every AArch64 Linux syscall, sorted by number.
        pub static SYSCALLS: &[Syscall] = &[$(
            Syscall {
                nr: $nr,
                name: stringify!($name),
                imp: syscall_table!(@imp $(($argc) $kind($target))?),
            },
        )*];
    };
    (@imp) => { None };
    (@imp ($argc:literal) $kind:ident($target:path)) => {
        Some(Impl { argc: $argc, handler: Handler::$kind($target) })
    };
}

syscall_table! {
    0 io_setup(2) => Pass(libc::SYS_io_setup);
    1 io_destroy(1) => Pass(libc::SYS_io_destroy);
    2 io_submit(3) => Pass(libc::SYS_io_submit);
    3 io_cancel(3) => Pass(libc::SYS_io_cancel);
    4 io_getevents(5) => Pass(libc::SYS_io_getevents);
    5 setxattr(5) => Pass(libc::SYS_setxattr);
    6 lsetxattr(5) => Pass(libc::SYS_lsetxattr);
    7 fsetxattr(5) => Pass(libc::SYS_fsetxattr);
    8 getxattr(4) => Pass(libc::SYS_getxattr);
    9 lgetxattr(4) => Pass(libc::SYS_lgetxattr);
    10 fgetxattr(4) => Pass(libc::SYS_fgetxattr);
    11 listxattr(3) => Pass(libc::SYS_listxattr);
    12 llistxattr(3) => Pass(libc::SYS_llistxattr);
    13 flistxattr(3) => Pass(libc::SYS_flistxattr);
    14 removexattr(2) => Pass(libc::SYS_removexattr);
    15 lremovexattr(2) => Pass(libc::SYS_lremovexattr);
    16 fremovexattr(2) => Pass(libc::SYS_fremovexattr);
    17 getcwd(2) => Pass(libc::SYS_getcwd);
    18 lookup_dcookie;
    19 eventfd2(2) => Pass(libc::SYS_eventfd2);
    20 epoll_create1(1) => Pass(libc::SYS_epoll_create1);
    21 epoll_ctl(4) => Emulate(poll::epoll_ctl);
    22 epoll_pwait(6) => Emulate(poll::epoll_pwait);
    23 dup(1) => Pass(libc::SYS_dup);
    24 dup3(3) => Pass(libc::SYS_dup3);
    25 fcntl(3) => Emulate(fs::fcntl);
    26 inotify_init1(1) => Pass(libc::SYS_inotify_init1);
    27 inotify_add_watch(3) => Pass(libc::SYS_inotify_add_watch);
    28 inotify_rm_watch(2) => Pass(libc::SYS_inotify_rm_watch);
    29 ioctl(3) => Emulate(io::ioctl);
    30 ioprio_set(3) => Pass(libc::SYS_ioprio_set);
    31 ioprio_get(2) => Pass(libc::SYS_ioprio_get);
    32 flock(2) => Pass(libc::SYS_flock);
    33 mknodat(4) => Pass(libc::SYS_mknodat);
    34 mkdirat(3) => Pass(libc::SYS_mkdirat);
    35 unlinkat(3) => Pass(libc::SYS_unlinkat);
    36 symlinkat(3) => Pass(libc::SYS_symlinkat);
    37 linkat(5) => Pass(libc::SYS_linkat);
    38 renameat(4) => Pass(libc::SYS_renameat);
    39 umount2(2) => Pass(libc::SYS_umount2);
    40 mount(5) => Pass(libc::SYS_mount);
    41 pivot_root(2) => Pass(libc::SYS_pivot_root);
    42 nfsservctl;
    43 statfs(2) => Pass(libc::SYS_statfs);
    44 fstatfs(2) => Pass(libc::SYS_fstatfs);
    45 truncate(2) => Pass(libc::SYS_truncate);
    46 ftruncate(2) => Pass(libc::SYS_ftruncate);
    47 fallocate(4) => Pass(libc::SYS_fallocate);
    48 faccessat(3) => Pass(libc::SYS_faccessat);
    49 chdir(1) => Pass(libc::SYS_chdir);
    50 fchdir(1) => Pass(libc::SYS_fchdir);
    51 chroot(1) => Pass(libc::SYS_chroot);
    52 fchmod(2) => Pass(libc::SYS_fchmod);
    53 fchmodat(3) => Pass(libc::SYS_fchmodat);
    54 fchownat(5) => Pass(libc::SYS_fchownat);
    55 fchown(3) => Pass(libc::SYS_fchown);
    56 openat(4) => Emulate(fs::openat);
    57 close(1) => Pass(libc::SYS_close);
    58 vhangup(0) => Pass(libc::SYS_vhangup);
    59 pipe2(2) => Emulate(io::pipe2);
    60 quotactl(4) => Pass(libc::SYS_quotactl);
    61 getdents64(3) => Pass(libc::SYS_getdents64);
    62 lseek(3) => Pass(libc::SYS_lseek);
    63 read(3) => Pass(libc::SYS_read);
    64 write(3) => Pass(libc::SYS_write);
    65 readv(3) => Pass(libc::SYS_readv);
    66 writev(3) => Pass(libc::SYS_writev);
    67 pread64(4) => Pass(libc::SYS_pread64);
    68 pwrite64(4) => Pass(libc::SYS_pwrite64);
    69 preadv(5) => Pass(libc::SYS_preadv);
    70 pwritev(5) => Pass(libc::SYS_pwritev);
    71 sendfile(4) => Pass(libc::SYS_sendfile);
    72 pselect6(6) => Pass(libc::SYS_pselect6);
    73 ppoll(5) => Pass(libc::SYS_ppoll);
    74 signalfd4(4) => Pass(libc::SYS_signalfd4);
    75 vmsplice(4) => Pass(libc::SYS_vmsplice);
    76 splice(6) => Pass(libc::SYS_splice);
    77 tee(4) => Pass(libc::SYS_tee);
    78 readlinkat(4) => Emulate(fs::readlinkat);
    79 newfstatat(4) => Emulate(fs::newfstatat);
    80 fstat(2) => Emulate(fs::fstat);
    81 sync(0) => Pass(libc::SYS_sync);
    82 fsync(1) => Pass(libc::SYS_fsync);
    83 fdatasync(1) => Pass(libc::SYS_fdatasync);
    84 sync_file_range(4) => Pass(libc::SYS_sync_file_range);
    85 timerfd_create(2) => Pass(libc::SYS_timerfd_create);
    86 timerfd_settime(4) => Pass(libc::SYS_timerfd_settime);
    87 timerfd_gettime(2) => Pass(libc::SYS_timerfd_gettime);
    88 utimensat(4) => Pass(libc::SYS_utimensat);
    89 acct(1) => Pass(libc::SYS_acct);
    90 capget(2) => Pass(libc::SYS_capget);
    91 capset(2) => Pass(libc::SYS_capset);
    92 personality(1) => Pass(libc::SYS_personality);
    93 exit(1) => Emulate(process::exit);
    94 exit_group(1) => NoReturn(process::exit_group);
    95 waitid(5) => Pass(libc::SYS_waitid);
    96 set_tid_address(1) => Emulate(process::set_tid_address);
    97 unshare(1) => Pass(libc::SYS_unshare);
    98 futex(6) => Pass(libc::SYS_futex);
    99 set_robust_list(2) => Pass(libc::SYS_set_robust_list);
    100 get_robust_list(3) => Pass(libc::SYS_get_robust_list);
    101 nanosleep(2) => Pass(libc::SYS_nanosleep);
    102 getitimer(2) => Pass(libc::SYS_getitimer);
    103 setitimer(3) => Pass(libc::SYS_setitimer);
    104 kexec_load;
    105 init_module;
    106 delete_module;
    107 timer_create(3) => Pass(libc::SYS_timer_create);
    108 timer_gettime(2) => Pass(libc::SYS_timer_gettime);
    109 timer_getoverrun(1) => Pass(libc::SYS_timer_getoverrun);
    110 timer_settime(4) => Pass(libc::SYS_timer_settime);
    111 timer_delete(1) => Pass(libc::SYS_timer_delete);
    112 clock_settime(2) => Pass(libc::SYS_clock_settime);
    113 clock_gettime(2) => Pass(libc::SYS_clock_gettime);
    114 clock_getres(2) => Pass(libc::SYS_clock_getres);
    115 clock_nanosleep(4) => Pass(libc::SYS_clock_nanosleep);
    116 syslog(3) => Pass(libc::SYS_syslog);
    117 ptrace;
    118 sched_setparam(2) => Pass(libc::SYS_sched_setparam);
    119 sched_setscheduler(3) => Pass(libc::SYS_sched_setscheduler);
    120 sched_getscheduler(1) => Pass(libc::SYS_sched_getscheduler);
    121 sched_getparam(2) => Pass(libc::SYS_sched_getparam);
    122 sched_setaffinity(3) => Pass(libc::SYS_sched_setaffinity);
    123 sched_getaffinity(3) => Pass(libc::SYS_sched_getaffinity);
    124 sched_yield(0) => Pass(libc::SYS_sched_yield);
    125 sched_get_priority_max(1) => Pass(libc::SYS_sched_get_priority_max);
    126 sched_get_priority_min(1) => Pass(libc::SYS_sched_get_priority_min);
    127 sched_rr_get_interval(2) => Pass(libc::SYS_sched_rr_get_interval);
    128 restart_syscall;
    129 kill(2) => Pass(libc::SYS_kill);
    130 tkill(2) => Pass(libc::SYS_tkill);
    131 tgkill(3) => Pass(libc::SYS_tgkill);
    132 sigaltstack(2) => Emulate(signal::sigaltstack);
    133 rt_sigsuspend(2) => Emulate(signal::rt_sigsuspend);
    134 rt_sigaction(4) => Emulate(signal::rt_sigaction);
    135 rt_sigprocmask(4) => Emulate(signal::rt_sigprocmask);
    136 rt_sigpending(2) => Emulate(signal::rt_sigpending);
    137 rt_sigtimedwait(4) => Emulate(signal::rt_sigtimedwait);
    138 rt_sigqueueinfo(3) => Pass(libc::SYS_rt_sigqueueinfo);
    139 rt_sigreturn(0) => Emulate(signal::rt_sigreturn);
    140 setpriority(3) => Pass(libc::SYS_setpriority);
    141 getpriority(2) => Pass(libc::SYS_getpriority);
    142 reboot;
    143 setregid(2) => Pass(libc::SYS_setregid);
    144 setgid(1) => Pass(libc::SYS_setgid);
    145 setreuid(2) => Pass(libc::SYS_setreuid);
    146 setuid(1) => Pass(libc::SYS_setuid);
    147 setresuid(3) => Pass(libc::SYS_setresuid);
    148 getresuid(3) => Pass(libc::SYS_getresuid);
    149 setresgid(3) => Pass(libc::SYS_setresgid);
    150 getresgid(3) => Pass(libc::SYS_getresgid);
    151 setfsuid(1) => Pass(libc::SYS_setfsuid);
    152 setfsgid(1) => Pass(libc::SYS_setfsgid);
    153 times(1) => Pass(libc::SYS_times);
    154 setpgid(2) => Pass(libc::SYS_setpgid);
    155 getpgid(1) => Pass(libc::SYS_getpgid);
    156 getsid(1) => Pass(libc::SYS_getsid);
    157 setsid(0) => Pass(libc::SYS_setsid);
    158 getgroups(2) => Pass(libc::SYS_getgroups);
    159 setgroups(2) => Pass(libc::SYS_setgroups);
    160 uname(1) => Emulate(info::uname);
    161 sethostname(2) => Pass(libc::SYS_sethostname);
    162 setdomainname(2) => Pass(libc::SYS_setdomainname);
    163 getrlimit(2) => Pass(libc::SYS_getrlimit);
    164 setrlimit(2) => Pass(libc::SYS_setrlimit);
    165 getrusage(2) => Pass(libc::SYS_getrusage);
    166 umask(1) => Pass(libc::SYS_umask);
    167 prctl(5) => Emulate(process::prctl);
    168 getcpu(3) => Pass(libc::SYS_getcpu);
    169 gettimeofday(2) => Pass(libc::SYS_gettimeofday);
    170 settimeofday(2) => Pass(libc::SYS_settimeofday);
    171 adjtimex(1) => Pass(libc::SYS_adjtimex);
    172 getpid(0) => Pass(libc::SYS_getpid);
    173 getppid(0) => Pass(libc::SYS_getppid);
    174 getuid(0) => Pass(libc::SYS_getuid);
    175 geteuid(0) => Pass(libc::SYS_geteuid);
    176 getgid(0) => Pass(libc::SYS_getgid);
    177 getegid(0) => Pass(libc::SYS_getegid);
    178 gettid(0) => Pass(libc::SYS_gettid);
    179 sysinfo(1) => Pass(libc::SYS_sysinfo);
    180 mq_open(4) => Pass(libc::SYS_mq_open);
    181 mq_unlink(1) => Pass(libc::SYS_mq_unlink);
    182 mq_timedsend(5) => Pass(libc::SYS_mq_timedsend);
    183 mq_timedreceive(5) => Pass(libc::SYS_mq_timedreceive);
    184 mq_notify(2) => Pass(libc::SYS_mq_notify);
    185 mq_getsetattr(3) => Pass(libc::SYS_mq_getsetattr);
    186 msgget(2) => Pass(libc::SYS_msgget);
    187 msgctl(3) => Pass(libc::SYS_msgctl);
    188 msgrcv(5) => Pass(libc::SYS_msgrcv);
    189 msgsnd(4) => Pass(libc::SYS_msgsnd);
    190 semget(3) => Pass(libc::SYS_semget);
    191 semctl(4) => Emulate(ipc::semctl);
    192 semtimedop(4) => Pass(libc::SYS_semtimedop);
    193 semop(3) => Pass(libc::SYS_semop);
    194 shmget(3) => Pass(libc::SYS_shmget);
    195 shmctl(3) => Pass(libc::SYS_shmctl);
    196 shmat(3) => Emulate(ipc::shmat);
    197 shmdt(1) => Emulate(ipc::shmdt);
    198 socket(3) => Pass(libc::SYS_socket);
    199 socketpair(4) => Pass(libc::SYS_socketpair);
    200 bind(3) => Pass(libc::SYS_bind);
    201 listen(2) => Pass(libc::SYS_listen);
    202 accept(3) => Pass(libc::SYS_accept);
    203 connect(3) => Pass(libc::SYS_connect);
    204 getsockname(3) => Pass(libc::SYS_getsockname);
    205 getpeername(3) => Pass(libc::SYS_getpeername);
    206 sendto(6) => Pass(libc::SYS_sendto);
    207 recvfrom(6) => Pass(libc::SYS_recvfrom);
    208 setsockopt(5) => Pass(libc::SYS_setsockopt);
    209 getsockopt(5) => Pass(libc::SYS_getsockopt);
    210 shutdown(2) => Pass(libc::SYS_shutdown);
    211 sendmsg(3) => Pass(libc::SYS_sendmsg);
    212 recvmsg(3) => Pass(libc::SYS_recvmsg);
    213 readahead(3) => Pass(libc::SYS_readahead);
    214 brk(1) => Emulate(mm::brk);
    215 munmap(2) => Emulate(mm::munmap);
    216 mremap(5) => Emulate(mm::mremap);
    217 add_key(5) => Pass(libc::SYS_add_key);
    218 request_key(4) => Pass(libc::SYS_request_key);
    219 keyctl(5) => Pass(libc::SYS_keyctl);
    220 clone(5) => Emulate(process::clone);
    221 execve(3) => Emulate(exec::execve);
    222 mmap(6) => Emulate(mm::mmap);
    223 fadvise64(4) => Pass(libc::SYS_fadvise64);
    224 swapon(2) => Pass(libc::SYS_swapon);
    225 swapoff(1) => Pass(libc::SYS_swapoff);
    226 mprotect(3) => Emulate(mm::mprotect);
    227 msync(3) => Pass(libc::SYS_msync);
    228 mlock(2) => Pass(libc::SYS_mlock);
    229 munlock(2) => Pass(libc::SYS_munlock);
    230 mlockall(1) => Pass(libc::SYS_mlockall);
    231 munlockall(0) => Pass(libc::SYS_munlockall);
    232 mincore(3) => Pass(libc::SYS_mincore);
    233 madvise(3) => Pass(libc::SYS_madvise);
    234 remap_file_pages;
    235 mbind(6) => Pass(libc::SYS_mbind);
    236 get_mempolicy(5) => Pass(libc::SYS_get_mempolicy);
    237 set_mempolicy(3) => Pass(libc::SYS_set_mempolicy);
    238 migrate_pages(4) => Pass(libc::SYS_migrate_pages);
    239 move_pages(6) => Pass(libc::SYS_move_pages);
    240 rt_tgsigqueueinfo(4) => Pass(libc::SYS_rt_tgsigqueueinfo);
    241 perf_event_open;
    242 accept4(4) => Pass(libc::SYS_accept4);
    243 recvmmsg(5) => Pass(libc::SYS_recvmmsg);
    244 arch_specific_syscall;
    260 wait4(4) => Pass(libc::SYS_wait4);
    261 prlimit64(4) => Pass(libc::SYS_prlimit64);
    262 fanotify_init(2) => Emulate(fs::fanotify_init);
    263 fanotify_mark(5) => Pass(libc::SYS_fanotify_mark);
    264 name_to_handle_at(5) => Pass(libc::SYS_name_to_handle_at);
    265 open_by_handle_at(3) => Emulate(fs::open_by_handle_at);
    266 clock_adjtime(2) => Pass(libc::SYS_clock_adjtime);
    267 syncfs(1) => Pass(libc::SYS_syncfs);
    268 setns(2) => Pass(libc::SYS_setns);
    269 sendmmsg(4) => Pass(libc::SYS_sendmmsg);
    270 process_vm_readv(6) => Pass(libc::SYS_process_vm_readv);
    271 process_vm_writev(6) => Pass(libc::SYS_process_vm_writev);
    272 kcmp(5) => Pass(libc::SYS_kcmp);
    273 finit_module;
    274 sched_setattr(3) => Pass(libc::SYS_sched_setattr);
    275 sched_getattr(4) => Pass(libc::SYS_sched_getattr);
    276 renameat2(5) => Pass(libc::SYS_renameat2);
    277 seccomp;
    278 getrandom(3) => Pass(libc::SYS_getrandom);
    279 memfd_create(2) => Pass(libc::SYS_memfd_create);
    280 bpf;
    281 execveat(5) => Emulate(exec::execveat);
    282 userfaultfd;
    283 membarrier(3) => Pass(libc::SYS_membarrier);
    284 mlock2(3) => Pass(libc::SYS_mlock2);
    285 copy_file_range(6) => Pass(libc::SYS_copy_file_range);
    286 preadv2(6) => Pass(libc::SYS_preadv2);
    287 pwritev2(6) => Pass(libc::SYS_pwritev2);
    288 pkey_mprotect;
    289 pkey_alloc(2) => Fail(libc::ENOSPC);
    290 pkey_free(1) => Fail(libc::EINVAL);
    291 statx(5) => Pass(libc::SYS_statx);
    292 io_pgetevents(6) => Pass(host_nr::IO_PGETEVENTS);
    293 rseq(4) => Fail(libc::ENOSYS);
    294 kexec_file_load;
    424 pidfd_send_signal(4) => Pass(libc::SYS_pidfd_send_signal);
    425 io_uring_setup;
    426 io_uring_enter;
    427 io_uring_register;
    428 open_tree(3) => Pass(libc::SYS_open_tree);
    429 move_mount(5) => Pass(libc::SYS_move_mount);
    430 fsopen(2) => Pass(libc::SYS_fsopen);
    431 fsconfig(5) => Pass(libc::SYS_fsconfig);
    432 fsmount(3) => Pass(libc::SYS_fsmount);
    433 fspick(3) => Pass(libc::SYS_fspick);
    434 pidfd_open(2) => Pass(libc::SYS_pidfd_open);
    435 clone3(2) => Fail(libc::ENOSYS);
    436 close_range(3) => Pass(libc::SYS_close_range);
    437 openat2(4) => Emulate(fs::openat2);
    438 pidfd_getfd(3) => Pass(libc::SYS_pidfd_getfd);
    439 faccessat2(4) => Pass(libc::SYS_faccessat2);
    440 process_madvise(5) => Pass(libc::SYS_process_madvise);
    441 epoll_pwait2(6) => Emulate(poll::epoll_pwait2);
    442 mount_setattr(5) => Pass(libc::SYS_mount_setattr);
    443 quotactl_fd(4) => Pass(libc::SYS_quotactl_fd);
    444 landlock_create_ruleset(3) => Pass(libc::SYS_landlock_create_ruleset);
    445 landlock_add_rule(4) => Pass(libc::SYS_landlock_add_rule);
    446 landlock_restrict_self(2) => Pass(libc::SYS_landlock_restrict_self);
    447 memfd_secret(1) => Pass(libc::SYS_memfd_secret);
    448 process_mrelease(2) => Pass(libc::SYS_process_mrelease);
    449 futex_waitv;
    450 set_mempolicy_home_node(4) => Pass(libc::SYS_set_mempolicy_home_node);
    451 cachestat(4) => Pass(host_nr::CACHESTAT);
    452 fchmodat2(4) => Pass(libc::SYS_fchmodat2);
    453 map_shadow_stack;
    454 futex_wake;
    455 futex_wait;
    456 futex_requeue;
    457 statmount(4) => Pass(host_nr::STATMOUNT);
    458 listmount(4) => Pass(host_nr::LISTMOUNT);
    459 lsm_get_self_attr(4) => Pass(host_nr::LSM_GET_SELF_ATTR);
    460 lsm_set_self_attr(4) => Pass(host_nr::LSM_SET_SELF_ATTR);
    461 lsm_list_modules(3) => Pass(host_nr::LSM_LIST_MODULES);
    462 mseal(3) => Pass(libc::SYS_mseal);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn sorted_with_unique_numbers_and_names() {
        assert!(SYSCALLS.windows(2).all(|w| w[0].nr < w[1].nr));
        let names: HashSet<_> = SYSCALLS.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), SYSCALLS.len());
    }

    #[test]
    fn spot_checks_against_the_arm64_header() {
        let nr = |name: &str| SYSCALLS.iter().find(|s| s.name == name).unwrap().nr;
        assert_eq!(nr("openat"), 56);
        assert_eq!(nr("close"), 57);
        assert_eq!(nr("read"), 63);
        assert_eq!(nr("write"), 64);
        assert_eq!(nr("newfstatat"), 79);
        assert_eq!(nr("fstat"), 80);
        assert_eq!(nr("exit"), 93);
        assert_eq!(nr("exit_group"), 94);
        assert_eq!(nr("rt_sigreturn"), 139);
        assert_eq!(nr("brk"), 214);
        assert_eq!(nr("munmap"), 215);
        assert_eq!(nr("clone"), 220);
        assert_eq!(nr("mmap"), 222);
        assert_eq!(nr("rseq"), 293);
        assert_eq!(nr("clone3"), 435);
        assert_eq!(find(1000).map(|s| s.name), None);
        assert_eq!(find(98).map(|s| s.name), Some("futex"));
    }

    #[test]
    fn argument_counts_fit_the_registers() {
        assert!(SYSCALLS.iter().filter_map(|s| s.imp).all(|i| i.argc <= 6));
    }
}
