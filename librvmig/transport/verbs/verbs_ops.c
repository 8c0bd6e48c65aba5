/* SPDX-License-Identifier: MIT */
/* verbs_ops.c - the verbs transport's ops table ("verbs://host:port"). */
#include "transport/verbs/verbs.h"

const struct rvmig_tp_ops rvmig_tp_verbs = {
	.name = "verbs",
	.ep_create = vb_ep_create,
	.ep_destroy = vb_ep_destroy,
	.connect_link = vb_connect_link,
	.ep_fd = vb_ep_fd,
	.arm = vb_arm,
	.poll = vb_poll,
	.peer_name = vb_peer_name,
	.ep_error = vb_ep_error,
	.reg_mr = vb_reg_mr,
	.dereg_mr = vb_dereg_mr,
	.post_recv = vb_post_recv,
	.post_send = vb_post_send,
	.post_write = vb_post_write,
	.post_read = vb_post_read,
	.listen = vb_listen,
	.lst_port = vb_lst_port,
	.lst_fd = vb_lst_fd,
	.lst_wait = vb_lst_wait,
	.lst_accept = vb_lst_accept,
	.lst_reject = vb_lst_reject,
	.lst_close = vb_lst_close,
};
