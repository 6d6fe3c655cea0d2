/*
 * doctor: the classification of hh_remote_open's errors (the texts of remote_ssh.c) and the
 * fingerprint they quote. The checks themselves run against real servers in
 * tests/integration/test_doctor.py.
 */
#include "internal/doctor.h"
#include "tests/unit/t.h"

#include <stdlib.h>

TEST(doctor_ssh_step)
{
	CHECK(hh_doctor_ssh_step("ssh host 'ssh://a@b/c' needs an identity and a known-hosts file") ==
	      HH_SSH_CONFIG);
	CHECK(hh_doctor_ssh_step("cannot read ssh key '/k': No such file or directory") ==
	      HH_SSH_KEY_FILE);
	CHECK(hh_doctor_ssh_step("cannot connect to fixhost:22: Connection refused") ==
	      HH_SSH_CONNECT);
	CHECK(hh_doctor_ssh_step("cannot connect to nowhere.invalid:22: Name or service not known") ==
	      HH_SSH_CONNECT);
	CHECK(hh_doctor_ssh_step("ssh handshake with 127.0.0.1:80 failed: timed out") ==
	      HH_SSH_HANDSHAKE);
	CHECK(hh_doctor_ssh_step("cannot read known hosts file '/kh': Permission denied") ==
	      HH_SSH_KNOWN_HOSTS_FILE);
	CHECK(hh_doctor_ssh_step("host key for [127.0.0.1]:2222 is not in /kh (SHA256:abc)") ==
	      HH_SSH_HOST_UNKNOWN);
	CHECK(hh_doctor_ssh_step("host key for fixhost does not match the one in /kh (SHA256:x)") ==
	      HH_SSH_HOST_CHANGED);
	CHECK(hh_doctor_ssh_step("ssh authentication failed for u@h with key /k: Unable to "
				 "extract public key from private key file") == HH_SSH_AUTH);
	CHECK(hh_doctor_ssh_step("cannot open an ssh channel to u@h: x") == HH_SSH_OTHER);
	CHECK(hh_doctor_ssh_step("u@h has no sftp subsystem, or it did not answer in time "
				 "(healhook copies files over SFTP: ...): timed out") == HH_SSH_SFTP);
	CHECK(hh_doctor_ssh_step("ssh host 'ssh://a@b/c' needs a known-hosts file") ==
	      HH_SSH_CONFIG);
	CHECK(hh_doctor_ssh_step("ssh host 'ssh://a@b/c' needs an identity (a private key file)") ==
	      HH_SSH_CONFIG);
	CHECK(hh_doctor_ssh_step(NULL) == HH_SSH_OTHER);
	/* a path that looks like another step's words does not fool the order of the tests */
	CHECK(hh_doctor_ssh_step("cannot connect to h:22: No route to host") == HH_SSH_CONNECT);
}

TEST(doctor_fingerprint)
{
	char *fp = hh_doctor_fingerprint("host key for [127.0.0.1]:2222 is not in /kh "
					 "(SHA256:gFP86gGYFlrjdgsaCT75YhOxvo/DZ6omjxo04gYR/n4)");

	CHECK_STR(fp, "SHA256:gFP86gGYFlrjdgsaCT75YhOxvo/DZ6omjxo04gYR/n4");
	free(fp);
	CHECK(hh_doctor_fingerprint("cannot connect to h:22: refused") == NULL);
	CHECK(hh_doctor_fingerprint("host key (SHA256:unterminated") == NULL);
	CHECK(hh_doctor_fingerprint(NULL) == NULL);
}
