#include "records/exec_event.h"

#include <errno.h>

const char *am_errno_name(int err)
{
	/* The errors execve(2) documents, plus a few that show up in practice. */
	switch (err) {
	case E2BIG:
		return "E2BIG";
	case EACCES:
		return "EACCES";
	case EAGAIN:
		return "EAGAIN";
	case EFAULT:
		return "EFAULT";
	case EINVAL:
		return "EINVAL";
	case EIO:
		return "EIO";
	case EISDIR:
		return "EISDIR";
	case ELIBBAD:
		return "ELIBBAD";
	case ELOOP:
		return "ELOOP";
	case EMFILE:
		return "EMFILE";
	case ENAMETOOLONG:
		return "ENAMETOOLONG";
	case ENFILE:
		return "ENFILE";
	case ENOENT:
		return "ENOENT";
	case ENOEXEC:
		return "ENOEXEC";
	case ENOMEM:
		return "ENOMEM";
	case ENOTDIR:
		return "ENOTDIR";
	case EPERM:
		return "EPERM";
	case ETXTBSY:
		return "ETXTBSY";
	case EBADF:
		return "EBADF";
	case EINTR:
		return "EINTR";
	case ENXIO:
		return "ENXIO";
	case ENODEV:
		return "ENODEV";
	case ESRCH:
		return "ESRCH";
	case ECHILD:
		return "ECHILD";
	case EOVERFLOW:
		return "EOVERFLOW";
	default:
		return NULL;
	}
}
