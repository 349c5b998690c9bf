/* Steering tests/tools/fault_receiver.js, the misbehaving HTTP receiver of the sender and OTLP
 * tests, through its control port. */
#ifndef ANTIMETAL_TESTS_FAULT_RECEIVER_H
#define ANTIMETAL_TESTS_FAULT_RECEIVER_H

/* Switch the answers of the receiver whose control port is CPORT: QUERY is the /mode query
 * string ("mode=503&count=1"). Asserts the receiver took it. */
void am_test_receiver_mode(int cport, const char *query);

#endif
