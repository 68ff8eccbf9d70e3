// Linux errno values (include/uapi/asm-generic/errno-base.h, errno.h). Functions that can fail
// return the negative value, as the kernel does; 0 or a non-negative value is success.
export const EPERM: i32 = 1;
export const ENOENT: i32 = 2;
export const ESRCH: i32 = 3;
export const EINTR: i32 = 4;
export const EIO: i32 = 5;
export const EAGAIN: i32 = 11;
export const ENOMEM: i32 = 12;
export const EACCES: i32 = 13;
export const EFAULT: i32 = 14;
export const EBUSY: i32 = 16;
export const EEXIST: i32 = 17;
export const EINVAL: i32 = 22;
export const ENOSPC: i32 = 28;
export const ERANGE: i32 = 34;
export const EDEADLK: i32 = 35;
export const EOVERFLOW: i32 = 75;
export const ETIMEDOUT: i32 = 110;
