/* kick.h: the kick protocol that takes a vCPU out of KVM_RUN. */
#ifndef KVMRUN_KICK_H
#define KVMRUN_KICK_H

struct kvmrun_vcpu;

/* Request bits a vCPU drains after each kick. */
#define KICK_REQ_STOP 0x1u

/* Installs the kick signal's handler (once per process). 0 or -errno. */
int kick_setup(void);

/* The real-time signal used for kicks (SIGRTMIN). */
int kick_signal(void);

/* In a new vCPU thread: remember its kvm_run for the signal handler and
 * set the thread's mask so that only the kick signal gets through. */
void kick_thread_init(struct kvmrun_vcpu *vcpu);

/* Publishes req bits for vcpu, then kicks it out of (or away from)
 * KVM_RUN. Safe from any thread, any number of times. */
void kick_request(struct kvmrun_vcpu *vcpu, unsigned req);

/* Kicks again without new requests (after a wait timed out). */
void kick_vcpu(struct kvmrun_vcpu *vcpu);

/* In the vCPU thread after KVM_RUN returned -EINTR: clears immediate_exit
 * FIRST, then takes every pending request. Returns the request bits. */
unsigned kick_drain(struct kvmrun_vcpu *vcpu);

#endif
