// The model zoo. Models with a torchvision twin use torchvision's module names, so weights load by key.
export { ResNet, BasicBlock, Bottleneck, resnet18, resnet34, resnet50, resnetStemOf, type ResNetOptions, type ResNetStem } from './resnet.js';
export { ResNet9, Residual, resnet9, type ResNet9Options } from './resnet9.js';
export { MobileNetV2, InvertedResidual, mobilenetV2, makeDivisible, type MobileNetV2Options } from './mobilenetv2.js';
export {
  Vgg, SmallVgg, vgg11Bn, vgg13Bn, vgg16Bn, vgg19Bn, smallVgg, vggFeatures, VGG_CONFIGS, SMALL_VGG_CONFIG,
  type VggConfig, type VggOptions, type SmallVggOptions,
} from './vgg.js';
export { Mlp, LeNet5, mlp, lenet5, type MlpOptions, type LeNet5Options } from './classic.js';
export {
  SeedCnn, SeedMlp, seedCifarCnn, seedMnistCnn, seedMnistFcn, seedFaceCropCnn, seedFacesCnn, seedImagenet64Cnn, seedMlp,
  SEED_CIFAR_CNN, SEED_MNIST_CNN, SEED_FACE_CROP_CNN, SEED_FACES_CNN, SEED_IMAGENET64_CNN,
  type SeedCnnSpec, type SeedCnnOptions, type SeedMlpOptions, type SeedInit,
} from './seeds.js';
export { FashionNet, fashionNet, type FashionNetOptions } from './fashion-net.js';
export { UNet, DoubleConv, Down, Up, OutConv, unet, type UNetOptions, type UNetUpsampling } from './unet.js';
export { ConvAutoencoder, convAutoencoder, denoisingAutoencoder, type ConvAutoencoderOptions, type ReconstructionOutput } from './autoencoder.js';
export { Gan } from './gan.js';
export { DcganGenerator, DcganDiscriminator, dcgan, dcganInit, type DcganOptions } from './dcgan.js';
export { SeedGanGenerator, SeedGanDiscriminator, seedGan } from './gan-seed.js';
export { convBnAct, torchvisionInit, kerasInit } from './blocks.js';
export { createModel, listModels, modelInfo, MODEL_TASKS, type CreateModelOptions, type ModelInfo, type ModelTask, type ZooModel } from './registry.js';
export {
  loadPretrained, replaceHead, freezeBackbone, evalFrozenBatchNorm, unfreeze, discriminativeGroups, headPath,
  type LoadPretrainedOptions, type LoadPretrainedReport, type ShapeMismatch, type ParamGroupSpec, type FreezeBackboneOptions,
} from './transfer.js';
