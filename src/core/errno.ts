// Names of the Linux errno values the core returns (include/uapi/asm-generic/errno-base.h).
const NAMES: Record<number, string> = {
  1: "EPERM", 2: "ENOENT", 4: "EINTR", 5: "EIO", 12: "ENOMEM", 14: "EFAULT", 16: "EBUSY",
  17: "EEXIST", 22: "EINVAL", 28: "ENOSPC", 34: "ERANGE", 35: "EDEADLK", 110: "ETIMEDOUT",
};

export const EINVAL = 22;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;

/** "-ENOMEM" for -12, and so on; the number itself for an unknown value. */
export function errnoName(errno: number): string {
  const e = Math.abs(errno);
  return NAMES[e] ? `-${NAMES[e]}` : `errno ${errno}`;
}
