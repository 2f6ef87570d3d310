// The stock @openai/agents SDK over its WebSocket transport against ovos-realtime: a text turn
// and a tool round trip; any 'error' the SDK raises fails the check.
import { RealtimeAgent, RealtimeSession, tool } from '@openai/agents/realtime';
import { z } from 'zod';

const url = process.argv[2];
const errors = [];
const toolCalls = [];
const getWeather = tool({
  name: 'get_weather',
  description: 'Get the current weather for a city.',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => { toolCalls.push(city); return `It is sunny in ${city}.`; },
});
const agent = new RealtimeAgent({ name: 'helper', instructions: 'Be brief.', tools: [getWeather] });
const session = new RealtimeSession(agent, {
  transport: 'websocket',
  model: 'ovos-realtime',
  config: { outputModalities: ['text'] },
});
session.on('error', (e) => errors.push(String(e?.error?.message ?? e?.error ?? e)));

function nextAgentEnd(timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no agent_end')), timeoutMs);
    session.once('agent_end', (_ctx, _agent, text) => { clearTimeout(timer); resolve(text); });
  });
}

await session.connect({ apiKey: 'unused', url });
let ended = nextAgentEnd();
session.sendMessage('What is the capital of France?');
const first = await ended;
ended = nextAgentEnd();
session.sendMessage('Please call a tool for the weather.');
let second = await ended;
// The tool call ends one response; the answer with its output is the next.
if (!second || !second.includes('The tool said')) second = await nextAgentEnd();
session.close();
const result = { first, second, toolCalls, errors, history: session.history.length };
console.log(JSON.stringify(result));
const ok = first.includes('You said') && second.includes('sunny') && toolCalls.length === 1 && errors.length === 0;
process.exit(ok ? 0 : 1);
