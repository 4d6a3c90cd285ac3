/**
 * Block Kit as Slack checks it, as far as fleetops uses it: the limits of
 * https://docs.slack.dev/reference/block-kit/blocks (50 blocks; section text 3,000; header 150; button
 * text 75, action_id 255, value 2,000; actions 25 elements; context 10). The Slack stand-in refuses a
 * message that breaks one (invalid_blocks), as Slack does.
 */

function textObject(t: unknown, types: string[], limit: number): boolean {
  const o = t as { type?: unknown; text?: unknown };
  return !!o && types.includes(String(o.type)) && typeof o.text === 'string' && o.text.length >= 1 && o.text.length <= limit;
}

/** Block Kit, as far as fleetops uses it: section, actions (buttons), context, header, divider. */
export function blocksProblem(blocks: unknown): string | undefined {
  if (!Array.isArray(blocks) || blocks.length === 0 || blocks.length > 50) return 'blocks: 1-50 blocks';
  const actionIds = new Set<string>();
  for (const [i, b] of blocks.entries()) {
    const block = b as Record<string, unknown>;
    if (block.block_id !== undefined && (typeof block.block_id !== 'string' || block.block_id.length > 255)) return `blocks[${i}].block_id`;
    switch (block.type) {
      case 'divider':
        break;
      case 'header':
        if (!textObject(block.text, ['plain_text'], 150)) return `blocks[${i}]: header text is plain_text, 1-150 characters`;
        break;
      case 'section':
        if (!textObject(block.text, ['mrkdwn', 'plain_text'], 3000)) return `blocks[${i}]: section text is mrkdwn or plain_text, 1-3000 characters`;
        break;
      case 'context': {
        const els = block.elements as unknown[];
        if (!Array.isArray(els) || els.length < 1 || els.length > 10 || !els.every((e) => textObject(e, ['mrkdwn', 'plain_text'], 3000))) {
          return `blocks[${i}]: context has 1-10 text elements`;
        }
        break;
      }
      case 'actions': {
        const els = block.elements as Record<string, unknown>[];
        if (!Array.isArray(els) || els.length < 1 || els.length > 25) return `blocks[${i}]: actions has 1-25 elements`;
        for (const [j, e] of els.entries()) {
          if (e.type !== 'button') return `blocks[${i}].elements[${j}]: only buttons here`;
          if (!textObject(e.text, ['plain_text'], 75)) return `blocks[${i}].elements[${j}]: button text is plain_text, 1-75 characters`;
          if (typeof e.action_id !== 'string' || e.action_id.length < 1 || e.action_id.length > 255) return `blocks[${i}].elements[${j}].action_id`;
          if (actionIds.has(e.action_id)) return `blocks[${i}].elements[${j}]: action_id ${e.action_id} repeated`;
          actionIds.add(e.action_id);
          if (e.value !== undefined && (typeof e.value !== 'string' || e.value.length > 2000)) return `blocks[${i}].elements[${j}].value: at most 2000 characters`;
          if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') return `blocks[${i}].elements[${j}].style`;
        }
        break;
      }
      default:
        return `blocks[${i}]: unknown block type ${String(block.type)}`;
    }
  }
  return undefined;
}
