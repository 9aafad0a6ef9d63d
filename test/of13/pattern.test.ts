/**
 * Messages are a tagged union that ts-pattern matches exhaustively: this file does not
 * compile if a message type is added to the spec tables and not handled here.
 */
import t from 'tap';
import { match, P } from 'ts-pattern';
import { SAMPLES } from './samples.js';
import { OFPT, type Message } from '../../controller/of13/index.js';

function classify(m: Message): string {
  return match(m)
    .with({ type: 'HELLO' }, (x) => `hello v${x.version}`)
    .with({ type: 'ERROR', err_type: 0xffff }, (x) => `experimenter error ${'experimenter' in x ? x.experimenter : ''}`)
    .with({ type: 'ERROR' }, () => 'error')
    .with({ type: P.union('ECHO_REQUEST', 'ECHO_REPLY') }, (x) => `echo ${x.data.length}`)
    .with({ type: 'EXPERIMENTER' }, () => 'experimenter')
    .with({ type: P.union('FEATURES_REQUEST', 'GET_CONFIG_REQUEST', 'BARRIER_REQUEST', 'BARRIER_REPLY', 'GET_ASYNC_REQUEST') }, (x) => x.type)
    .with({ type: 'FEATURES_REPLY' }, (x) => `dpid ${x.datapath_id}`)
    .with({ type: P.union('GET_CONFIG_REPLY', 'SET_CONFIG') }, (x) => `miss_send_len ${x.miss_send_len}`)
    .with({ type: 'PACKET_IN' }, (x) => `packet-in ${x.data.length}`)
    .with({ type: 'FLOW_REMOVED' }, (x) => `removed ${x.reason}`)
    .with({ type: 'PORT_STATUS' }, (x) => `port ${x.desc.name}`)
    .with({ type: 'PACKET_OUT' }, (x) => `packet-out ${x.actions.length}`)
    .with({ type: 'FLOW_MOD' }, (x) => `flow-mod ${x.command}`)
    .with({ type: 'GROUP_MOD' }, (x) => `group-mod ${x.group_id}`)
    .with({ type: 'PORT_MOD' }, (x) => `port-mod ${x.port_no}`)
    .with({ type: 'TABLE_MOD' }, (x) => `table-mod ${x.table_id}`)
    .with({ type: 'MULTIPART_REQUEST', mp_type: 'FLOW' }, (x) => `flow stats request table ${x.body.table_id}`)
    .with({ type: 'MULTIPART_REQUEST' }, (x) => `request ${x.mp_type}`)
    .with({ type: 'MULTIPART_REPLY', mp_type: 'FLOW' }, (x) => `flow stats ${x.body.length}`)
    .with({ type: 'MULTIPART_REPLY' }, (x) => `reply ${x.mp_type}`)
    .with({ type: P.union('QUEUE_GET_CONFIG_REQUEST', 'QUEUE_GET_CONFIG_REPLY') }, (x) => `queues ${x.port}`)
    .with({ type: P.union('ROLE_REQUEST', 'ROLE_REPLY') }, (x) => `role ${x.role}`)
    .with({ type: P.union('GET_ASYNC_REPLY', 'SET_ASYNC') }, (x) => `async ${x.packet_in_mask[0]}`)
    .with({ type: 'METER_MOD' }, (x) => `meter ${x.meter_id}`)
    .exhaustive();
}

t.test('every sample matches exactly one exhaustive branch', async (t) => {
  const seen = new Set<string>();
  for (const m of SAMPLES) {
    const s = classify(m);
    t.type(s, 'string');
    seen.add(m.type);
  }
  t.same([...seen].sort(), Object.keys(OFPT).sort(), 'samples cover every message type');
});
