/* kick.h: the kick protocol that takes a vCPU out of KVM_RUN. */
#ifndef KVMRUN_KICK_H
#define KVMRUN_KICK_H

#include <stdint.h>

struct kvmrun_vcpu;

/* Request bits a vCPU drains after each kick. */
#define KICK_REQ_STOP 0x1u
#define KICK_REQ_PAUSE 0x2u

/* Installs the kick signal's handler (once per process). 0 or -errno. */
int kick_setup(void);

/* The real-time signal used for kicks (SIGRTMIN). */
int kick_signal(void);

/* In a new vCPU thread: remember its kvm_run for the signal handler and
 * set the thread's mask so that only the kick signal gets through. */
void kick_thread_init(struct kvmrun_vcpu *vcpu);

/*
 * Publishes req bits (0: a plain kick) for vcpu, then kicks it out of (or
 * away from) KVM_RUN. Returns the kick's sequence number: the kick is
 * acknowledged once kick_acked(vcpu) reaches it. Safe from any thread.
 */
uint64_t kick_request(struct kvmrun_vcpu *vcpu, unsigned req);

/* Kicks again without a new request (after a wait timed out). */
void kick_again(struct kvmrun_vcpu *vcpu);

/* The highest sequence number the vCPU has acknowledged. */
uint64_t kick_acked(struct kvmrun_vcpu *vcpu);

/*
 * In the vCPU thread after KVM_RUN returned -EINTR: clears immediate_exit
 * FIRST, then takes every pending request and acknowledges every kick
 * published so far (waking kick_wait()ers). Returns the request bits.
 */
unsigned kick_drain(struct kvmrun_vcpu *vcpu);

/* Acknowledges every kick published so far, without taking requests: for
 * a vCPU that leaves KVM_RUN for a while (paused) or for good (exited). */
void kick_ack_all(struct kvmrun_vcpu *vcpu);

/*
 * Waits until kick seq is acknowledged, or the vCPU is out of KVM_RUN for
 * good or paused; re-kicks every rekick_ms. 0, or -ETIMEDOUT after
 * timeout_ms.
 */
int kick_wait(struct kvmrun_vcpu *vcpu, uint64_t seq, unsigned timeout_ms,
              unsigned rekick_ms);

#endif
