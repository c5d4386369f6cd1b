// The model zoo. Models with a torchvision twin use torchvision's module names, so weights load by key.
export { ResNet, BasicBlock, Bottleneck, resnet18, resnet34, resnet50, type ResNetOptions } from './resnet.js';
