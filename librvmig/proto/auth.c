/* SPDX-License-Identifier: MIT */
/*
 * auth.c - mutual challenge-response with a pre-shared key.
 *
 *   receiver -> client   CHALLENGE { nonce_s }
 *   client   -> receiver AUTH      { nonce_c, HMAC(k, "rvmig-client" | session | nonce_s | nonce_c) }
 *   receiver -> client   READY     { ..., HMAC(k, "rvmig-server" | session | nonce_c | nonce_s) }
 *
 * Both nonces are fresh (getrandom), so neither proof can be replayed, and
 * the receiver registers its ring only after the client's proof checked out.
 * HMAC-SHA-256 comes from OpenSSL's libcrypto; comparisons are constant-time.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>
#include <sys/random.h>

#include "core/log.h"
#include "proto/ep.h"

static void proof(const struct rvmig_ep *ep, const char *who, const uint8_t *n1,
		  const uint8_t *n2, uint8_t out[WIRE_MAC])
{
	uint8_t msg[16 + 8 + 2 * WIRE_NONCE];
	unsigned int len = WIRE_MAC;

	memset(msg, 0, 16);
	memcpy(msg, who, strlen(who) < 16 ? strlen(who) : 16);
	memcpy(msg + 16, &ep->session, 8);
	memcpy(msg + 24, n1, WIRE_NONCE);
	memcpy(msg + 24 + WIRE_NONCE, n2, WIRE_NONCE);
	HMAC(EVP_sha256(), ep->attr.psk, (int)ep->attr.psk_len, msg, sizeof(msg), out, &len);
}

static int nonce(uint8_t n[WIRE_NONCE])
{
	return getrandom(n, WIRE_NONCE, 0) == WIRE_NONCE ? 0 : -EIO;
}

/* Receiver: sends the challenge. */
int auth_challenge(struct rvmig_ep *ep)
{
	struct wire_challenge m = { .h.type = MSG_CHALLENGE };
	int rc = nonce(ep->nonce_s);

	if (rc)
		return rc;
	memcpy(m.nonce, ep->nonce_s, WIRE_NONCE);
	rc = ep_send_ctrl(ep, 0, &m, sizeof(m), false);
	return rc < 0 ? rc : 0;
}

/* Receiver: checks the client's proof.  0 or -RVMIG_EAUTH. */
int auth_check_client(struct rvmig_ep *ep, const struct wire_auth *m)
{
	uint8_t want[WIRE_MAC];

	memcpy(ep->nonce_c, m->nonce, WIRE_NONCE);
	proof(ep, "rvmig-client", ep->nonce_s, ep->nonce_c, want);
	if (CRYPTO_memcmp(want, m->proof, WIRE_MAC))
		return -RVMIG_EAUTH;
	return 0;
}

/* Receiver: the proof carried in READY. */
void auth_server_proof(struct rvmig_ep *ep, uint8_t out[WIRE_MAC])
{
	proof(ep, "rvmig-server", ep->nonce_c, ep->nonce_s, out);
}

/* Client: answers the challenge. */
int auth_answer(struct rvmig_ep *ep, const struct wire_challenge *c)
{
	struct wire_auth m = { .h.type = MSG_AUTH };
	int rc;

	if (!ep->attr.psk) {
		ep_fail(ep, -RVMIG_EAUTH, "receiver %s requires authentication and no key is configured",
			ep->peer);
		return -RVMIG_EAUTH;
	}
	rc = nonce(ep->nonce_c);
	if (rc)
		return rc;
	memcpy(ep->nonce_s, c->nonce, WIRE_NONCE);
	memcpy(m.nonce, ep->nonce_c, WIRE_NONCE);
	proof(ep, "rvmig-client", ep->nonce_s, ep->nonce_c, m.proof);
	ep->auth_answered = true;
	rc = ep_send_ctrl(ep, 0, &m, sizeof(m), false);
	return rc < 0 ? rc : 0;
}

/* Client: checks READY's proof (mutual authentication). */
int auth_check_server(struct rvmig_ep *ep, const struct wire_ready *r)
{
	uint8_t want[WIRE_MAC];

	if (!ep->attr.psk)
		return 0;
	if (!(r->flags & READY_AUTHENTICATED) || !ep->auth_answered) {
		ep_fail(ep, -RVMIG_EAUTH, "receiver %s did not authenticate itself (a key is configured)",
			ep->peer);
		return -RVMIG_EAUTH;
	}
	proof(ep, "rvmig-server", ep->nonce_c, ep->nonce_s, want);
	if (CRYPTO_memcmp(want, r->proof, WIRE_MAC)) {
		ep_fail(ep, -RVMIG_EAUTH, "receiver %s failed to prove it holds the key", ep->peer);
		return -RVMIG_EAUTH;
	}
	return 0;
}
