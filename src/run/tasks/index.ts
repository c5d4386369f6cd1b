// The tasks by name (task.ts says what a task is), and the checks every run makes of its task.
import { ConfigError } from '../../config/load.js';
import type { RunConfig } from '../../config/schema.js';
import { modelInfo } from '../../models/registry.js';
import { classify } from './classify.js';
import { multilabel } from './multilabel.js';
import { reconstruct } from './reconstruct.js';
import { segment } from './segment.js';
import type { Task, TaskName } from './task.js';

export type { Losses, PredictItem, PredictionRow, PredictOptions, Predictor, Task, TaskName, TaskSettings, TestInput, TestOutput } from './task.js';

const TASKS: Record<TaskName, Task> = { classify, segment, multilabel, reconstruct };

export function taskOf(name: TaskName): Task {
  return TASKS[name];
}

// Which of model.options each task's models read (the rest would be accepted and never read).
const READS: Record<TaskName, readonly string[]> = {
  classify: [],
  multilabel: [],
  segment: ['baseWidth', 'depth', 'upsampling'],
  reconstruct: ['widths', 'output', 'noise'],
};

/**
 * The run's task, once its model is known: refuses a model made for another task (naming both), model
 * options that model does not read, and config values that do not apply to the task.
 */
export function checkTask(config: RunConfig, model: string): Task {
  const task = taskOf(config.task);
  if (model !== 'auto') {
    const info = modelInfo(model);
    if (info.task !== task.modelTask) {
      const fits = task.modelTask === 'classify' ? 'a classifier' : `a '${task.modelTask}' model`;
      throw new ConfigError(`model.name (--model) ${info.name} is a '${info.task}' model, but task (--task) ${task.name} needs ${fits} (see tessera models)`);
    }
  }
  const unread = Object.keys(config.model.options ?? {}).filter((k) => !READS[task.name].includes(k));
  if (unread.length > 0)
    throw new ConfigError(`model.options.${unread[0]} does not apply to the models of task ${task.name}${READS[task.name].length ? ` (they read ${READS[task.name].join(', ')})` : ' (they read none)'}`);
  if (task.name !== 'classify' && config.augment.testFlip === true) throw new ConfigError(`augment.testFlip is for classification; task ${task.name} would have to flip its outputs back`);
  task.settings(config);
  return task;
}
